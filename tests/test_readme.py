from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command():
    ci_command = [line for line in (ROOT / ".ci/run").read_text().splitlines() if line.startswith("pip install")]
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start")[1].split("```bash")[1].split("```")[0].strip().splitlines()
    assert len(ci_command) == 1 and len(quick_start) == 2
    assert quick_start[1] == ci_command[0]
    assert quick_start[0] == "pip install -e . && lqpose demo --out demo/"


def test_degradation_docs_match_the_code():
    from lqpose.degrade import DEGRADATIONS

    doc = (ROOT / "docs/degradations.md").read_text()
    for s in DEGRADATIONS.values():
        row = f"| {s.name} | {s.family} | {s.doc} | " + " / ".join(str(v) for v in s.severity_table) + " |"
        assert row in doc, f"docs/degradations.md is out of date for {s.name}"
