import Testing
@testable import Tensor

@Suite struct TensorValueTests {
    @Test func shapeMustMatchScalarCount() {
        #expect(throws: TensorError.scalarCountMismatch(shape: [2, 3], scalarCount: 5)) {
            try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
        }
        #expect(throws: TensorError.self) { try Tensor(shape: [-1], scalars: []) }
    }

    @Test func rowsAndReshape() throws {
        let tensor = try Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        #expect(try tensor.rows(1..<3) == Tensor(shape: [2, 2], scalars: [3, 4, 5, 6]))
        #expect(try tensor.reshaped(to: [2, 3]).shape == [2, 3])
        #expect(throws: TensorError.self) { try tensor.rows(2..<4) }
        #expect(throws: TensorError.self) { try tensor.reshaped(to: [4]) }
    }

    @Test func differenceAndMagnitude() throws {
        let a = try Tensor(shape: [3], scalars: [1, -4, 2])
        let b = try Tensor(shape: [3], scalars: [1.5, -4, 2])
        #expect(try a.maxAbsoluteDifference(to: b) == 0.5)
        #expect(a.maxAbsoluteValue == 4)
        #expect(throws: TensorError.self) { try a.maxAbsoluteDifference(to: Tensor(zeros: [2])) }
    }

    @Test func emptyTensorsAreRejectedByKernels() throws {
        let engine = try ComputeEngine()
        #expect(throws: TensorError.emptyOperand(shape: [0, 4])) { try engine.softmax(Tensor(zeros: [0, 4])) }
    }
}
