/// The `CLIP` module of inctrl-serve (docs/ARCHITECTURE.md has the module map).
public enum CLIPModule {}
