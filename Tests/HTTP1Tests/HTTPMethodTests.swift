import Testing
@testable import HTTP1

/// Which methods the server implements.
@Suite struct HTTPMethodTests {
    @Test func theImplementedMethodsAreImplementedAndNoOthers() {
        #expect(HTTPMethod.implemented == [.get, .head, .post, .put, .delete, .options, .patch, .connect, .trace, .query])
        for method in HTTPMethod.implemented {
            #expect(method.isImplemented, "\(method)")
        }
        for name in ["get", "BREW", "PROPFIND", "", "GETS", "GE"] {
            #expect(!HTTPMethod(name).isImplemented, "\(name)")
        }
    }
}
