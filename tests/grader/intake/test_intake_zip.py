"""Zip archives: read in memory, members taken as uploads, hostile archives refused with a clear message."""

import stat
import zipfile

import pytest
from intake_builders import MODULE, zip_bytes

from grader.intake import IntakeError, load_submission
from grader.intake import limits as intake_limits


def intake_error(paths) -> str:
    with pytest.raises(IntakeError) as caught:
        load_submission(paths)
    return caught.value.message


def test_zip_members_are_taken_as_uploads(write_file):
    archive = write_file(
        "lab.zip",
        zip_bytes(
            {
                "lab/": b"",
                "lab/vit.py": MODULE,
                "lab/answers.md": "## Q3\n\nglobal\n",
                "__MACOSX/lab/._vit.py": b"\x00\x05\x16\x07",
                "lab/.ipynb_checkpoints/vit_lab-checkpoint.ipynb": "{}",
                "lab/__pycache__/vit.cpython-311.pyc": b"\x00\x00",
                "lab/.DS_Store": b"\x00",
            }
        ),
    )
    submission = load_submission([archive])
    assert submission.module_source == MODULE and submission.module_file == "lab.zip/lab/vit.py"
    assert submission.answers == {"Q3": "global"}
    assert [note.name for note in submission.files] == ["lab.zip", "lab.zip/lab/vit.py", "lab.zip/lab/answers.md"]
    assert submission.warnings == []


def test_zip_prefers_vit_py_over_the_notebook(write_file, write_notebook):
    notebook = write_notebook([("code", "import torch")]).read_bytes()
    archive = write_file(
        "lab.zip", zip_bytes({"vit_lab.ipynb": notebook, "vit.py": MODULE, "make_notebook.py": "x = 1"})
    )
    submission = load_submission([archive])
    assert submission.module_file == "lab.zip/vit.py"
    assert any("3 modules given" in warning and "used lab.zip/vit.py" in warning for warning in submission.warnings)


def test_zip_with_two_modules_and_no_vit_py_is_ambiguous(write_file):
    archive = write_file("lab.zip", zip_bytes({"model.py": MODULE, "train.py": MODULE}))
    assert "cannot tell which to grade" in intake_error([archive])


def test_parent_directory_component(write_file):
    message = intake_error([write_file("lab.zip", zip_bytes({"lab/../../x.py": MODULE}))])
    assert "'..'" in message and "lab/../../x.py" in message


def test_backslash_parent_directory_component(write_file):
    assert "'..'" in intake_error([write_file("lab.zip", zip_bytes({"..\\x.py": MODULE}))])


@pytest.mark.parametrize("name", ["/etc/vit.py", "C:/Users/vit.py"])
def test_absolute_path(write_file, name: str):
    assert "absolute path" in intake_error([write_file("lab.zip", zip_bytes({name: MODULE}))])


def test_symlink_entry(write_file):
    link = zipfile.ZipInfo("vit.py")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    message = intake_error([write_file("lab.zip", zip_bytes({}, infos=[link]))])
    assert "symbolic link" in message


def test_encrypted_entry(write_file):
    data = bytearray(zip_bytes({"vit.py": MODULE}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers' flag bits
        data[data.index(signature) + offset] |= 0x1
    assert "encrypted" in intake_error([write_file("lab.zip", bytes(data))])


def test_zip_bomb_high_compression_ratio(write_file):
    archive = write_file("lab.zip", zip_bytes({"vit.py": b"#" * (4 * 1024 * 1024)}))
    assert archive.stat().st_size < 64 * 1024  # small on disk, 4 MB inside
    message = intake_error([archive])
    assert "zip bomb" in message and "limit 100" in message


def test_too_many_entries(write_file):
    members = {f"file{i}.md": "## Q3\n\nx\n" for i in range(intake_limits.MAX_ZIP_ENTRIES + 1)}
    message = intake_error([write_file("lab.zip", zip_bytes(members))])
    assert f"{intake_limits.MAX_ZIP_ENTRIES + 1} entries" in message


def test_total_uncompressed_size(write_file, monkeypatch):
    monkeypatch.setattr(intake_limits, "MAX_ZIP_TOTAL_BYTES", 1000)
    archive = write_file("lab.zip", zip_bytes({"vit.py": MODULE, "answers.md": "## Q3\n\n" + "word " * 200}))
    assert "once uncompressed; the limit is 1000 B" in intake_error([archive])


def test_member_size(write_file, monkeypatch):
    monkeypatch.setattr(intake_limits, "MAX_ZIP_ENTRY_BYTES", 100)
    message = intake_error([write_file("lab.zip", zip_bytes({"vit.py": MODULE}))])
    assert "vit.py" in message and "the limit is 100 B per file" in message


def test_nested_zip_is_ignored(write_file):
    inner = zip_bytes({"vit.py": "raise SystemExit\n"})
    submission = load_submission([write_file("lab.zip", zip_bytes({"vit.py": MODULE, "old.zip": inner}))])
    assert submission.module_source == MODULE
    assert "lab.zip: old.zip ignored (a zip inside a zip is not opened)." in submission.warnings


def test_unknown_members_are_warned(write_file):
    submission = load_submission([write_file("lab.zip", zip_bytes({"vit.py": MODULE, "weights.pt": b"\x00"}))])
    assert any("weights.pt ignored" in warning for warning in submission.warnings)


def test_not_a_zip(write_file):
    assert "not a valid zip archive" in intake_error([write_file("lab.zip", b"PK\x03\x04 truncated")])


def test_zip_without_anything_readable(write_file):
    message = intake_error([write_file("lab.zip", zip_bytes({"data/": b"", "notes.txt": "hi"}))])
    assert "Nothing to grade" in message


def test_bad_member_is_reported_with_the_archive_name(write_file):
    message = intake_error([write_file("lab.zip", zip_bytes({"vit.py": "x = (\n"}))])
    assert "lab.zip/vit.py has a syntax error on line 1" in message


def test_zip_is_never_extracted(write_file, tmp_path):
    before = sorted(path.name for path in tmp_path.iterdir())
    load_submission([write_file("lab.zip", zip_bytes({"vit.py": MODULE}))])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*before, "lab.zip"])


def test_empty_init_py_does_not_count_as_a_module(write_file):
    archive = write_file("lab.zip", zip_bytes({"lab/__init__.py": "", "lab/model.py": MODULE}))
    submission = load_submission([archive])
    assert submission.module_file == "lab.zip/lab/model.py" and submission.warnings == []
