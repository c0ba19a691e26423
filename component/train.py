"""Stand-in training script for the component examples (standard library only).

Reads `params.yaml` (flat `key: value` lines), fits a tiny logistic regression on a fixed
dataset by gradient descent, and writes what a real training job would hand on as artifacts:
`model/config.json`, `model/weights/coefficients.bin` and `metrics.json`. Deterministic.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

FEATURES = ["tenure_months", "monthly_charges", "support_calls"]
# (tenure in years, monthly charges in hundreds, support calls) -> churned
DATA = [
    ((0.5, 0.9, 4.0), 1),
    ((0.2, 0.7, 3.0), 1),
    ((1.0, 1.1, 5.0), 1),
    ((0.8, 0.4, 2.0), 1),
    ((4.0, 0.5, 0.0), 0),
    ((3.0, 0.8, 1.0), 0),
    ((5.5, 0.3, 0.0), 0),
    ((2.5, 0.6, 1.0), 0),
]


def read_params(path: Path) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def predict(weights: list[float], row: tuple[float, ...]) -> float:
    z = weights[-1] + sum(w * x for w, x in zip(weights[:-1], row, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def fit(learning_rate: float, epochs: int) -> list[float]:
    weights = [0.0] * (len(FEATURES) + 1)
    for _ in range(epochs):
        for row, label in DATA:
            error = predict(weights, row) - label
            for i, x in enumerate((*row, 1.0)):
                weights[i] -= learning_rate * error * x
    return weights


def evaluate(weights: list[float]) -> dict[str, float]:
    hits = sum((predict(weights, row) >= 0.5) == bool(label) for row, label in DATA)
    probabilities = [(predict(weights, row), label) for row, label in DATA]
    loss = -sum(math.log(p if label else 1.0 - p) for p, label in probabilities) / len(DATA)
    return {"accuracy": round(hits / len(DATA), 4), "log_loss": round(loss, 4)}


def main() -> None:
    params = read_params(Path("params.yaml"))
    weights = fit(float(params["learning_rate"]), int(params["epochs"]))
    model = Path("model")
    (model / "weights").mkdir(parents=True, exist_ok=True)
    config = {"architecture": "logistic-regression", "features": FEATURES, "threshold": 0.5}
    (model / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (model / "weights" / "coefficients.bin").write_bytes(struct.pack("<4f", *weights))
    Path("metrics.json").write_text(json.dumps(evaluate(weights)) + "\n")


if __name__ == "__main__":
    main()
