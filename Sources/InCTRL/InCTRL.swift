/// The `InCTRL` module of inctrl-serve (see DESIGN.md §2).
public enum InCTRLModule {}
