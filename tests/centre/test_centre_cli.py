"""The centre's commands refuse what they cannot do in one line naming the option, file or field."""

from __future__ import annotations

import pytest

from edge.cli import main


@pytest.mark.parametrize("argv, expected", [
    (["fuse", "--serve", "a.evidence.json"], "fuse --serve: takes its evidence from the broker, not from files"),
    (["fuse"], "fuse: give EVIDENCE.json files, or --serve"),
    (["results", "--since", "yesterday"], "--since: 'yesterday' is not an ISO 8601 time"),
    (["results", "--store", "mysql://db/x"], "--store: "),
    (["collect", "--store", "postgresql://c:hunter2@db/x"], "a password in the url is refused"),
])
def test_bad_centre_command_lines_are_one_line_errors(argv, expected, capsys):
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1, err
    assert "hunter2" not in err


def test_fuse_serve_refuses_the_boxes_central_mode(tmp_path, capsys):
    config = tmp_path / "centre.yaml"
    config.write_text("fusion:\n  mode: central\n", encoding="utf-8")
    assert main(["fuse", "--serve", "-c", str(config)]) == 2
    assert "fusion.mode: central is the boxes' mode" in capsys.readouterr().err


def test_results_on_a_store_that_does_not_exist_says_so_and_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "centre.sqlite"
    assert main(["results", "--store", f"sqlite:///{missing}"]) == 6
    err = capsys.readouterr().err
    assert f"{missing}: no store here" in err and not missing.parent.exists()
