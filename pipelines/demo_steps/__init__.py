"""Demo steps, one module per gate, each exposing ``STEPS: list[DemoStep]`` (discovered by the demo)."""
