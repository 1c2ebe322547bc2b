/// The `Tensor` module of inctrl-serve (see DESIGN.md §2).
public enum TensorModule {}
