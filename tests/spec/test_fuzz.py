"""Seeded mutations of the example agents: the loader answers SpecErrors or a spec, nothing else."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from agentrun.errors import SpecErrors
from agentrun.spec import load_spec, trial_render

AGENTS = Path(__file__).resolve().parents[2] / "agents"
PIECES = [*" \t\n:-{}[]'\"!&*#|>%@`,?0123456789xyz_.\\\x07\x1b\ufeff\u2028é",
          "{{", "}}", "{%", "%}", "!!python/object:os.system ", "\x00", "---\n", "<<: *a",
          "&a ", "- ", "[[[[[[", "{{ ''.__class__ }}"]


def _mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text))
        if rng.random() < 0.5:
            text = text[:at] + text[at + rng.randint(1, 8):]
        else:
            text = text[:at] + rng.choice(PIECES) + text[at:]
    return text


@pytest.mark.parametrize("seed", range(3))
def test_mutated_agent_files_never_crash_the_loader(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    sources = [(AGENTS / name).read_text(encoding="utf-8") for name in ("support.yaml",
                                                                        "booking.yaml")]
    file = tmp_path / "fuzz.yaml"
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(40):
        text = _mutate(rng.choice(sources), rng)
        file.write_bytes(text.encode("utf-8", "surrogatepass") if rng.random() < 0.9
                         else text.encode("latin-1", "replace"))
        try:
            spec = load_spec(file)
        except SpecErrors as exc:
            assert all(e.path and e.message for e in exc.errors)
            outcomes["refused"] += 1
            continue
        assert isinstance(trial_render(spec), list)
        outcomes["loaded"] += 1
    assert outcomes["loaded"] and outcomes["refused"]
