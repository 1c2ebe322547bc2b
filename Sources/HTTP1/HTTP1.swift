/// The `HTTP1` module of inctrl-serve (see DESIGN.md §2).
public enum HTTP1Module {}
