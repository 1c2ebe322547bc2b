/// A pickle reader that rebuilds only what a PyTorch state_dict is made of.
///
/// It implements the opcodes `torch.save` emits for a dictionary of tensors (protocols
/// 2–5), resolves globals only from ``AllowedGlobal`` and applies only those to arguments
/// of the expected shape. Everything else — any other opcode, any other global, `BUILD` on
/// anything but a dictionary — is refused with an error naming it. No code from the file is
/// ever executed, and no value is built by calling something the file names.
struct RestrictedUnpickler {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    /// Limits that keep a hostile pickle from exhausting memory through the machine itself.
    static let maxStackDepth = 1 << 20
    static let maxMemoEntries = 1 << 22

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Runs the pickle to its `STOP` and returns the value it leaves.
    mutating func load() throws(CheckpointError) -> PickleValue {
        while true {
            let opcodeOffset = position
            let opcode = try readByte()
            switch opcode {
            case 0x80: // PROTO
                let version = try readByte()
                guard version <= 5 else { throw malformed("unknown protocol \(version)") }
            case 0x95: // FRAME: a length hint only.
                _ = try read(8)
            case 0x2E: // STOP
                guard let result = stack.popLast(), stack.isEmpty else { throw malformed("STOP with \(stack.count) values on the stack") }
                return result
            case 0x28: // MARK
                marks.append(stack.count)
            case 0x30: // POP
                _ = try pop()
            case 0x31: // POP_MARK
                _ = try popToMark()
            case 0x4E: // NONE
                try push(.none)
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false)) // NEWFALSE
            case 0x4B: // BININT1
                try push(.int(Int(try readByte())))
            case 0x4D: // BININT2
                try push(.int(Int(try readLittleEndian(2))))
            case 0x4A: // BININT
                try push(.int(Int(Int32(truncatingIfNeeded: try readLittleEndian(4)))))
            case 0x8A: // LONG1
                let length = Int(try readByte())
                try push(.int(try signedInteger(try read(length))))
            case 0x47: // BINFLOAT (big-endian double)
                let raw = try read(8)
                let bits = raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                try push(.float(Double(bitPattern: bits)))
            case 0x58: // BINUNICODE
                try push(.string(try readString(length: Int(try readLittleEndian(4)))))
            case 0x8C: // SHORT_BINUNICODE
                try push(.string(try readString(length: Int(try readByte()))))
            case 0x8D: // BINUNICODE8
                try push(.string(try readString(length: try boundedLength(try readLittleEndian(8)))))
            case 0x55: // SHORT_BINSTRING
                try push(.bytes(Array(try read(Int(try readByte())))))
            case 0x54: // BINSTRING
                try push(.bytes(Array(try read(Int(try readLittleEndian(4))))))
            case 0x43: // SHORT_BINBYTES
                try push(.bytes(Array(try read(Int(try readByte())))))
            case 0x42: // BINBYTES
                try push(.bytes(Array(try read(Int(try readLittleEndian(4))))))
            case 0x29: // EMPTY_TUPLE
                try push(.tuple([]))
            case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
                let count = Int(opcode - 0x84)
                guard stack.count - (marks.last ?? 0) >= count else { throw malformed("TUPLE\(count) needs \(count) values") }
                let items = Array(stack.suffix(count))
                stack.removeLast(count)
                try push(.tuple(items))
            case 0x74: // TUPLE
                try push(.tuple(try popToMark()))
            case 0x5D: // EMPTY_LIST
                try push(.list(PickleList()))
            case 0x6C: // LIST
                let list = PickleList()
                list.items = try popToMark()
                try push(.list(list))
            case 0x61: // APPEND
                let item = try pop()
                try list(at: try top()).items.append(item)
            case 0x65: // APPENDS
                let items = try popToMark()
                try list(at: try top()).items.append(contentsOf: items)
            case 0x7D: // EMPTY_DICT
                try push(.dict(PickleDict()))
            case 0x64: // DICT
                let dict = PickleDict()
                try setItems(try popToMark(), into: dict)
                try push(.dict(dict))
            case 0x73: // SETITEM
                let value = try pop(), key = try pop()
                try dictionary(at: try top()).set(key, value)
            case 0x75: // SETITEMS
                let items = try popToMark()
                try setItems(items, into: try dictionary(at: try top()))
            case 0x71: // BINPUT
                try memoise(Int(try readByte()))
            case 0x72: // LONG_BINPUT
                try memoise(Int(try readLittleEndian(4)))
            case 0x94: // MEMOIZE
                try memoise(memo.count)
            case 0x68: // BINGET
                try push(try recall(Int(try readByte())))
            case 0x6A: // LONG_BINGET
                try push(try recall(Int(try readLittleEndian(4))))
            case 0x63: // GLOBAL: "module\nname\n"
                let module = try readLine(), name = try readLine()
                try push(.global(try allowedGlobal(module, name)))
            case 0x93: // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case let .string(moduleName) = module, case let .string(globalName) = name else {
                    throw malformed("STACK_GLOBAL needs two strings")
                }
                try push(.global(try allowedGlobal(moduleName, globalName)))
            case 0x51: // BINPERSID
                try push(try persistentStorage(try pop()))
            case 0x52: // REDUCE
                let arguments = try pop(), callable = try pop()
                try push(try reduce(callable, arguments))
            case 0x62: // BUILD
                let state = try pop()
                // OrderedDict state_dicts carry `_metadata` as instance state; it is not needed.
                guard case .dict = try top(), case .dict = state else {
                    throw malformed("BUILD on a \(try top().kind) is not allowed")
                }
            default:
                throw .forbiddenOpcode(opcode: opcode, offset: opcodeOffset)
            }
        }
    }

    // MARK: - Applying allowed globals

    private func allowedGlobal(_ module: String, _ name: String) throws(CheckpointError) -> AllowedGlobal {
        guard let global = AllowedGlobal(rawValue: "\(module).\(name)") else { throw .forbiddenGlobal("\(module).\(name)") }
        return global
    }

    private func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws(CheckpointError) -> PickleValue {
        guard case let .global(global) = callable else { throw malformed("REDUCE on a \(callable.kind)") }
        guard case let .tuple(arguments) = arguments else { throw malformed("REDUCE arguments are a \(arguments.kind)") }
        switch global {
        case .orderedDict:
            guard arguments.isEmpty else { throw malformed("OrderedDict with arguments") }
            return .dict(PickleDict())
        case .rebuildTensorV2:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard arguments.count >= 6, case let .storage(storage) = arguments[0], case let .int(offset) = arguments[1],
                  let shape = integers(arguments[2]), let strides = integers(arguments[3]), shape.count == strides.count,
                  offset >= 0
            else { throw malformed("_rebuild_tensor_v2 with unexpected arguments") }
            return .tensor(TorchTensor(storage: storage, offset: offset, shape: shape, strides: strides))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks): a Parameter is its tensor here.
            guard arguments.count >= 1, case .tensor = arguments[0] else { throw malformed("_rebuild_parameter without a tensor") }
            return arguments[0]
        default:
            throw malformed("\(global.rawValue) cannot be called")
        }
    }

    /// `('storage', <storage class>, key, location, numel)`.
    private func persistentStorage(_ id: PickleValue) throws(CheckpointError) -> PickleValue {
        guard case let .tuple(fields) = id, fields.count == 5, case let .string(tag) = fields[0], tag == "storage",
              case let .global(type) = fields[1], let element = type.storageElement,
              case let .string(key) = fields[2], case let .int(count) = fields[4], count >= 0
        else { throw malformed("persistent id is not a storage reference") }
        return .storage(TorchStorage(element: element, key: key, count: count))
    }

    private func integers(_ value: PickleValue) -> [Int]? {
        guard case let .tuple(items) = value else { return nil }
        var result: [Int] = []
        for item in items {
            guard case let .int(number) = item, number >= 0 else { return nil }
            result.append(number)
        }
        return result
    }

    // MARK: - Stack, marks and memo

    private mutating func push(_ value: PickleValue) throws(CheckpointError) {
        guard stack.count < Self.maxStackDepth else { throw malformed("stack deeper than \(Self.maxStackDepth)") }
        stack.append(value)
    }

    private mutating func pop() throws(CheckpointError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else { throw malformed("stack underflow") }
        return value
    }

    private func top() throws(CheckpointError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else { throw malformed("stack underflow") }
        return value
    }

    private mutating func popToMark() throws(CheckpointError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("no MARK to pop to") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func memoise(_ index: Int) throws(CheckpointError) {
        guard memo.count < Self.maxMemoEntries || memo[index] != nil else { throw malformed("memo larger than \(Self.maxMemoEntries)") }
        memo[index] = try top()
    }

    private func recall(_ index: Int) throws(CheckpointError) -> PickleValue {
        guard let value = memo[index] else { throw malformed("memo entry \(index) was never stored") }
        return value
    }

    private func list(at value: PickleValue) throws(CheckpointError) -> PickleList {
        guard case let .list(list) = value else { throw malformed("APPEND to a \(value.kind)") }
        return list
    }

    private func dictionary(at value: PickleValue) throws(CheckpointError) -> PickleDict {
        guard case let .dict(dict) = value else { throw malformed("SETITEM on a \(value.kind)") }
        return dict
    }

    private func setItems(_ items: [PickleValue], into dict: PickleDict) throws(CheckpointError) {
        guard items.count % 2 == 0 else { throw malformed("odd number of dictionary items") }
        for pair in stride(from: 0, to: items.count, by: 2) { dict.set(items[pair], items[pair + 1]) }
    }

    // MARK: - Reading bytes

    private mutating func read(_ count: Int) throws(CheckpointError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else { throw malformed("truncated: \(count) more bytes needed") }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    private mutating func readByte() throws(CheckpointError) -> UInt8 {
        try read(1)[0]
    }

    private mutating func readLittleEndian(_ count: Int) throws(CheckpointError) -> UInt64 {
        try read(count).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private func boundedLength(_ value: UInt64) throws(CheckpointError) -> Int {
        guard value <= UInt64(bytes.count) else { throw malformed("length \(value) exceeds the pickle") }
        return Int(value)
    }

    private mutating func readString(length: Int) throws(CheckpointError) -> String {
        let raw = try read(length)
        guard let text = String(validating: raw, as: UTF8.self) else { throw malformed("string is not UTF-8") }
        return text
    }

    private mutating func readLine() throws(CheckpointError) -> String {
        guard let newline = bytes[position...].firstIndex(of: 0x0A) else { throw malformed("unterminated GLOBAL name") }
        let line = try readString(length: newline - position)
        position += 1
        return line
    }

    /// A little-endian two's-complement integer of up to 8 bytes (LONG1).
    private func signedInteger(_ raw: UnsafeRawBufferPointer) throws(CheckpointError) -> Int {
        guard raw.count <= 8 else { throw malformed("integer of \(raw.count) bytes is too large") }
        guard let last = raw.last else { return 0 }
        var value = UInt64(0)
        for (shift, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        if last & 0x80 != 0, raw.count < 8 { value |= ~UInt64(0) << (8 * UInt64(raw.count)) }
        return Int(Int64(bitPattern: value))
    }

    private func malformed(_ reason: String) -> CheckpointError {
        .malformedPickle(offset: position, reason: reason)
    }
}
