#!/usr/bin/env python3
"""Completes the registry metadata jsii-pacmak cannot set, in the packages it built under dist/.

jsii-pacmak names every Maven package `${project.groupId}:${project.artifactId}` and gives a Python
package only a `Source` link: Maven Central and PyPI would show neither a readable name, nor the bug
tracker, nor the keywords. This rewrites, after packaging and before publishing:

- dist/java/**/*.pom: the <name> element, and the .md5/.sha1 files beside the pom;
- dist/python/*.whl: METADATA gains `Keywords` and `Project-URL: Bug Tracker`, and RECORD its new hash;
- dist/python/*.tar.gz: the same lines in every PKG-INFO of the source distribution.

Values come from package.json (keywords, bugs.url) and --maven-name. The script fails loudly when a file
does not have the shape it expects (a new jsii-pacmak version), rather than publishing half-done metadata.
It is idempotent: a package already rewritten is left as it is.

usage: registry_metadata.py java|python <dist dir> [--maven-name NAME]
"""
import base64
import hashlib
import io
import json
import pathlib
import sys
import tarfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACMAK_NAME = "<name>${project.groupId}:${project.artifactId}</name>"


def fail(message):
    sys.exit(f"registry_metadata: {message}")


def package_json():
    return json.loads((ROOT / "package.json").read_text())


def rewrite_poms(dist, maven_name):
    poms = sorted(dist.rglob("*.pom"))
    if not poms:
        fail(f"no .pom under {dist}: run jsii-pacmak --targets java first")
    for pom in poms:
        text = pom.read_text()
        wanted = f"<name>{maven_name}</name>"
        if wanted in text:
            continue
        if text.count(PACMAK_NAME) != 1:
            fail(f"{pom}: expected one {PACMAK_NAME}; jsii-pacmak's pom changed: update {__file__}")
        data = text.replace(PACMAK_NAME, wanted).encode()
        pom.write_bytes(data)
        pom.with_name(pom.name + ".md5").write_text(hashlib.md5(data).hexdigest())
        pom.with_name(pom.name + ".sha1").write_text(hashlib.sha1(data).hexdigest())
        print(f"registry_metadata: {pom.relative_to(dist)}: <name>{maven_name}</name>")


def metadata_lines(pkg):
    bugs = pkg.get("bugs", {}).get("url")
    keywords = pkg.get("keywords", [])
    if not bugs or not keywords:
        fail("package.json needs bugs.url and keywords (set them in .projenrc.ts)")
    return [f"Keywords: {','.join(keywords)}", f"Project-URL: Bug Tracker, {bugs}"]


def add_lines(metadata, lines, where):
    """Adds the header lines after the last Project-URL header (before the blank line and the description)."""
    head, sep, body = metadata.partition("\n\n")
    if "Project-URL: " not in head:
        fail(f"{where}: expected a Project-URL header in the metadata; the package layout changed: update {__file__}")
    missing = [line for line in lines if line not in head.split("\n")]
    if not missing:
        return metadata
    rows = head.split("\n")
    last = max(i for i, row in enumerate(rows) if row.startswith("Project-URL: "))
    rows[last + 1:last + 1] = missing
    return "\n".join(rows) + sep + body


def record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def rewrite_wheel(wheel, lines):
    with zipfile.ZipFile(wheel) as z:
        entries = [(info, z.read(info)) for info in z.infolist()]
    names = [info.filename for info, _ in entries]
    meta_name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
    record_name = next((n for n in names if n.endswith(".dist-info/RECORD")), None)
    if not meta_name or not record_name:
        fail(f"{wheel}: no METADATA or RECORD in .dist-info")
    contents = dict((info.filename, data) for info, data in entries)
    meta = add_lines(contents[meta_name].decode(), lines, wheel).encode()
    if meta == contents[meta_name]:
        return False
    record_rows = contents[record_name].decode().splitlines()
    found = False
    for i, row in enumerate(record_rows):
        if row.startswith(meta_name + ","):
            record_rows[i] = f"{meta_name},{record_hash(meta)},{len(meta)}"
            found = True
    if not found:
        fail(f"{wheel}: RECORD does not list {meta_name}")
    contents[meta_name] = meta
    contents[record_name] = ("\n".join(record_rows) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info, _ in entries:
            out.writestr(info, contents[info.filename])
    wheel.write_bytes(buffer.getvalue())
    return True


def rewrite_sdist(sdist, lines):
    with tarfile.open(sdist, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    changed = False
    out_members = []
    for member, data in members:
        if data is not None and member.name.endswith("PKG-INFO"):
            new = add_lines(data.decode(), lines, f"{sdist}:{member.name}").encode()
            if new != data:
                changed = True
                member.size = len(new)
                data = new
        out_members.append((member, data))
    if not any(m.name.endswith("PKG-INFO") for m, _ in members):
        fail(f"{sdist}: no PKG-INFO in the source distribution")
    if changed:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for member, data in out_members:
                tar.addfile(member, io.BytesIO(data) if data is not None else None)
        sdist.write_bytes(buffer.getvalue())
    return changed


def rewrite_python(dist):
    lines = metadata_lines(package_json())
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if not wheels:
        fail(f"no wheel under {dist}: run jsii-pacmak --targets python first")
    for wheel in wheels:
        if rewrite_wheel(wheel, lines):
            print(f"registry_metadata: {wheel.name}: {'; '.join(lines)}")
    for sdist in sdists:
        if rewrite_sdist(sdist, lines):
            print(f"registry_metadata: {sdist.name}: {'; '.join(lines)}")


def main(argv):
    if len(argv) < 2 or argv[0] not in ("java", "python"):
        fail("usage: registry_metadata.py java|python <dist dir> [--maven-name NAME]")
    target, dist = argv[0], pathlib.Path(argv[1])
    if target == "java":
        if "--maven-name" not in argv:
            fail("java needs --maven-name NAME")
        rewrite_poms(dist, argv[argv.index("--maven-name") + 1])
    else:
        rewrite_python(dist)


if __name__ == "__main__":
    main(sys.argv[1:])
