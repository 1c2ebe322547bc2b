import Testing
@testable import CLIP

/// The pickle machine on hand-written opcode streams: what it builds and what it refuses.
@Suite struct RestrictedUnpicklerTests {
    func load(_ bytes: [UInt8]) throws -> PickleValue {
        try bytes.withUnsafeBytes { raw in
            var unpickler = RestrictedUnpickler(raw)
            return try unpickler.load()
        }
    }

    func global(_ module: String, _ name: String) -> [UInt8] {
        [0x63] + Array("\(module)\n\(name)\n".utf8)
    }

    @Test func buildsDictionariesListsAndScalars() throws {
        // {"a": [1, -2, 300000, True, None, 1.5], "b": (b"xy",)} via EMPTY_DICT/MARK/SETITEMS.
        let stream: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28]
            + [0x8C, 0x01] + Array("a".utf8)
            + [0x5D, 0x28, 0x4B, 0x01, 0x4A] + [0xFE, 0xFF, 0xFF, 0xFF]
            + [0x8A, 0x03, 0xE0, 0x93, 0x04, 0x88, 0x4E, 0x47, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0x65]
            + [0x8C, 0x01] + Array("b".utf8) + [0x43, 0x02, 0x78, 0x79, 0x85]
            + [0x75, 0x2E]
        guard case let .dict(dict) = try load(stream), case let .list(list)? = dict["a"], case let .tuple(tuple)? = dict["b"]
        else { Issue.record("unexpected structure"); return }
        guard list.items.count == 6, case .int(1) = list.items[0], case .int(-2) = list.items[1],
              case .int(300_000) = list.items[2], case .bool(true) = list.items[3], case .none = list.items[4],
              case .float(1.5) = list.items[5]
        else { Issue.record("unexpected list \(list.items.map(\.kind))"); return }
        guard case let .bytes(bytes) = tuple.first else { Issue.record("no bytes"); return }
        #expect(bytes == [0x78, 0x79])
    }

    @Test func memoisedValuesAreShared() throws {
        // [x, x] where x = [] memoised: appending through one is visible through the other.
        let stream: [UInt8] = [0x80, 0x02, 0x5D, 0x28, 0x5D, 0x71, 0x01, 0x68, 0x01, 0x65, 0x2E]
        guard case let .list(outer) = try load(stream), outer.items.count == 2,
              case let .list(first) = outer.items[0], case let .list(second) = outer.items[1]
        else { Issue.record("unexpected structure"); return }
        #expect(first === second)
    }

    @Test func refusesEveryGlobalOutsideTheAllowedSet() {
        for (module, name) in [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("torch", "load"),
                               ("collections", "defaultdict"), ("torch._utils", "_rebuild_device_tensor_from_numpy")] {
            #expect(throws: CheckpointError.forbiddenGlobal("\(module).\(name)")) {
                try load([0x80, 0x02] + global(module, name) + [0x29, 0x52, 0x2E])
            }
        }
        // STACK_GLOBAL goes through the same check.
        #expect(throws: CheckpointError.forbiddenGlobal("os.system")) {
            try load([0x80, 0x04, 0x8C, 0x02] + Array("os".utf8) + [0x8C, 0x06] + Array("system".utf8) + [0x93, 0x2E])
        }
    }

    @Test func refusesOpcodesAStateDictNeverUses() {
        // INST, OBJ, NEWOBJ, EXT1, PERSID (text), STRING (text), INT (text), BINFLOAT-less FLOAT.
        for opcode: UInt8 in [0x69, 0x6F, 0x81, 0x82, 0x50, 0x53, 0x49, 0x46, 0x92, 0x96, 0x97] {
            #expect(throws: CheckpointError.forbiddenOpcode(opcode: opcode, offset: 2)) {
                try load([0x80, 0x02, opcode, 0x2E])
            }
        }
    }

    @Test func refusesMalformedStreams() {
        let cases: [[UInt8]] = [
            [],                                   // nothing at all
            [0x80, 0x02],                         // no STOP
            [0x80, 0x02, 0x30, 0x2E],             // POP on an empty stack
            [0x80, 0x02, 0x74, 0x2E],             // TUPLE without MARK
            [0x80, 0x02, 0x68, 0x05, 0x2E],       // BINGET of an unset memo slot
            [0x80, 0x02, 0x4E, 0x4E, 0x2E],       // two values left at STOP
            [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F], // string longer than the stream
            [0x80, 0x02, 0x4E, 0x4E, 0x62, 0x2E], // BUILD on None
            [0x80, 0x02, 0x4B, 0x01, 0x29, 0x52, 0x2E], // REDUCE on an int
            [0x80, 0x09, 0x2E],                   // unknown protocol
            [0x80, 0x02, 0x28, 0x8C, 0x01, 0x61, 0x75, 0x2E], // SETITEMS on a non-dict
        ]
        for stream in cases {
            #expect(throws: CheckpointError.self, "stream \(stream)") { try load(stream) }
        }
    }

    @Test func refusesAPersistentIdThatIsNotAStorage() {
        let stream: [UInt8] = [0x80, 0x02, 0x8C, 0x03] + Array("abc".utf8) + [0x51, 0x2E]
        #expect(throws: CheckpointError.self) { try load(stream) }
    }
}
