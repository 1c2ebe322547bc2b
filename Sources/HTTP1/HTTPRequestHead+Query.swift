extension HTTPRequestHead {
    /// The value of the first query item named `name`, decoded as `HTTPRequest.queryItems`
    /// decodes it: for checks made from the head, before the request exists.
    public func queryValue(_ name: String) -> String? {
        HTTPRequest.QueryItem.items(in: query).first { $0.name == name }?.value
    }
}
