"""Datasets: JSONL/YAML loading with file:line errors, content-hash version, seeded split/sample,
adding cases with provenance, and the pydantic-evals conversion."""

from __future__ import annotations

import json

import pytest
from aiagents.evals import Case, Dataset, DatasetFileError, ExpectedCall, Provenance

ROWS = [
    {"name": "refund", "inputs": "How long do refunds take?", "expected_output": "14 days", "tags": ["rag"]},
    {
        "name": "tool",
        "inputs": {"question": "cancel #W1"},
        "expected_documents": ["orders.md"],
        "expected_trajectory": [{"tool": "cancel", "args": {"order_id": "#W1"}, "allowed": {"reason": ["x", ""]}}],
        "provenance": {"source": "production_log", "request_id": "r1", "trace_id": "t1"},
    },
]


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_jsonl_and_yaml_load_the_same_cases(tmp_path) -> None:
    write_jsonl(tmp_path / "a.jsonl", ROWS)
    ds = Dataset.load(tmp_path / "a.jsonl")
    assert ds.name == "a" and len(ds) == 2
    tool = ds.cases[1]
    assert tool.expected_documents == {"orders.md": 1}
    assert tool.expected_trajectory == [
        ExpectedCall(tool="cancel", args={"order_id": "#W1"}, allowed={"reason": ["x", ""]})
    ]
    assert tool.provenance == Provenance(source="production_log", request_id="r1", trace_id="t1")
    ds.save(tmp_path / "a.yaml")
    again = Dataset.load(tmp_path / "a.yaml")
    assert again.cases == ds.cases
    assert again.version == ds.version


def test_version_is_a_content_hash(tmp_path) -> None:
    write_jsonl(tmp_path / "a.jsonl", ROWS)
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r, indent=None, separators=(",", ":")) for r in ROWS))
    a, b = Dataset.load(tmp_path / "a.jsonl"), Dataset.load(tmp_path / "b.jsonl")
    assert a.version == b.version and len(a.version) == 12
    b.cases[0].expected_output = "15 days"
    assert a.version != b.version


def test_errors_name_file_line_and_field(tmp_path) -> None:
    write_jsonl(tmp_path / "bad.jsonl", [ROWS[0], {"name": "x", "inputs": 1, "expected_trajectory": [{"args": {}}]}])
    with pytest.raises(
        DatasetFileError, match=r"bad.jsonl:2: invalid case: expected_trajectory.0.tool: Field required"
    ):
        Dataset.load(tmp_path / "bad.jsonl")
    write_jsonl(tmp_path / "dup.jsonl", [ROWS[0], ROWS[0]])
    with pytest.raises(DatasetFileError, match=r"dup.jsonl:2: duplicate case name 'refund' \(first at line 1\)"):
        Dataset.load(tmp_path / "dup.jsonl")
    (tmp_path / "bad.yaml").write_text("name: s\ncases:\n  - name: a\n    inputs: 1\n  - name: b\n    inptus: 2\n")
    with pytest.raises(DatasetFileError, match=r"bad.yaml:5: invalid case: inputs: Field required; inptus: Extra"):
        Dataset.load(tmp_path / "bad.yaml")
    (tmp_path / "x.jsonl").write_text('{"inputs": 1}\n{broken\n')
    with pytest.raises(DatasetFileError, match=r"x.jsonl:2: invalid JSON"):
        Dataset.load(tmp_path / "x.jsonl")


def test_split_and_sample_are_seeded() -> None:
    ds = Dataset(name="n", cases=[Case(name=f"c{i}", inputs=i) for i in range(10)])
    a, b = ds.split(0.7, seed=1)
    assert len(a) == 7 and len(b) == 3
    assert sorted(c.inputs for c in a.cases + b.cases) == list(range(10))
    assert [c.name for c in ds.split(0.7, seed=1)[0]] == [c.name for c in a]
    assert [c.name for c in ds.split(0.7, seed=2)[0]] != [c.name for c in a]
    s = ds.sample(4, seed=3)
    assert len(s) == 4 and [c.name for c in s] == [c.name for c in ds.sample(4, seed=3)]
    assert len(ds.sample(50)) == 10
    with pytest.raises(Exception, match="within"):
        ds.split(1.5)


def test_add_with_provenance_dedups_by_input() -> None:
    ds = Dataset(name="n", cases=[Case(name="a", inputs="q1")])
    assert ds.add_from_log(inputs="q2", output="a2", request_id="r9", trace_id="t9") is True
    assert ds.add_from_log(inputs="q2", output="other", request_id="r10") is False
    assert ds.add_from_annotation(inputs="q1", expected_output="fixed", annotator="ann") is False
    assert ds.add_from_annotation(inputs={"q": 3}, expected_output="x", annotator="ann", request_id="r11") is True
    log, ann = ds.cases[1], ds.cases[2]
    assert (log.name, log.provenance.source, log.provenance.trace_id) == ("log-r9", "production_log", "t9")
    assert (ann.name, ann.provenance.source, ann.provenance.annotator) == ("annotation-r11", "annotation", "ann")
    assert ds.with_tags("nope").cases == []


def test_to_pydantic_evals_carries_expectations() -> None:
    ds = Dataset(
        name="n", cases=[Case(name="a", inputs="q", expected_output="o", expected_documents={"d": 2}, tags=["t"])]
    )
    pe = ds.to_pydantic_evals()
    (case,) = pe.cases
    assert (case.name, case.inputs, case.expected_output) == ("a", "q", "o")
    assert case.metadata["expected_documents"] == {"d": 2} and case.metadata["tags"] == ["t"]
