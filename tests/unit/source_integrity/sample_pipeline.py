"""The sample pipeline bundled as ``pipelines/samples/source_integrity/train_pipeline.yaml``.

Regenerate the bundled YAML with ``KFP_GATES_UPDATE_GOLDEN=1 pytest tests/unit/source_integrity``;
a test fails when it is stale.
"""

from pathlib import Path

from kfp import compiler, dsl

# A user's image pinned by a real-looking digest (the kfp-gates placeholder digest would not pass `check`).
IMAGE = "registry.example/ml/train@sha256:4f0dd2a8c1f3e5b79d6a0c8e2b4f6a1d3c5e7f9b0a2c4e6f8d0b2a4c6e8f0a1b"

BUNDLED = (
    Path(__file__).resolve().parents[3] / "pipelines" / "samples" / "source_integrity" / "train_pipeline.yaml"
)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def prepare_data(rows: int, dataset: dsl.Output[dsl.Dataset]) -> None:
    """Write a tiny CSV dataset."""
    with open(dataset.path, "w") as fh:
        fh.write("x,y\n")
        for i in range(rows):
            fh.write(f"{i},{2 * i + 1}\n")


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train_model(dataset: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model]) -> float:
    """Fit y = a*x + b by least squares and save the coefficients."""
    xs, ys = [], []
    with open(dataset.path) as fh:
        next(fh)
        for line in fh:
            x, y = line.strip().split(",")
            xs.append(float(x))
            ys.append(float(y))
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    a = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    b = my - a * mx
    with open(model.path, "w") as fh:
        fh.write(f"{a} {b}\n")
    return a


@dsl.pipeline(name="source-integrity-sample", description="A small training pipeline to lock.")
def train_pipeline(rows: int = 20) -> None:
    data = prepare_data(rows=rows)
    train_model(dataset=data.outputs["dataset"])


def compile_to(path: Path) -> Path:
    compiler.Compiler().compile(train_pipeline, str(path))
    return path
