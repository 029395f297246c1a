# The runtime dependencies of a wheel as this interpreter's environment
# resolves them: Requires-Dist from the wheel's METADATA (markers evaluated
# here, extras only when asked for), then each installed distribution's own
# requirements, transitively. Prints JSON on stdout:
#   {"packages": [{"name", "version" or null, "requirement"}],
#    "edges": {"": [root names], name: [names]}}
# A requirement that is not installed is listed with "version": null.
import json
import re
import sys
import zipfile
from email.parser import Parser
from importlib import metadata

try:
    from packaging.requirements import Requirement
except ImportError:  # no `packaging`: only extra-markers are understood
    Requirement = None


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text, extras):
    if Requirement is not None:
        req = Requirement(text)
        if req.marker is not None:
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if not any(req.marker.evaluate(env) for env in envs):
                return None
        return canonical(req.name), sorted(req.extras), str(req)
    head, _, marker = text.partition(";")
    if "extra" in marker and not any(e in marker for e in extras):
        return None
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", head)
    wanted = [e.strip() for e in (m.group(2) or "").split(",") if e.strip()]
    return canonical(m.group(1)), wanted, text.strip()


with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(
        n for n in wheel.namelist()
        if n.endswith(".dist-info/METADATA") and n.count("/") == 1
    )
    roots = Parser().parsestr(wheel.read(name).decode()).get_all("Requires-Dist") or []

packages, edges, seen = {}, {}, set()
queue = [("", text, ()) for text in roots]
while queue:
    parent, text, extras = queue.pop(0)
    parsed = parse(text, extras)
    if parsed is None:
        continue
    dep, wanted, requirement = parsed
    edges.setdefault(parent, [])
    if dep not in edges[parent]:
        edges[parent].append(dep)
    if (dep, tuple(wanted)) in seen:
        continue
    seen.add((dep, tuple(wanted)))
    try:
        dist = metadata.distribution(dep)
    except metadata.PackageNotFoundError:
        packages.setdefault(dep, {"name": dep, "version": None, "requirement": requirement})
        continue
    packages.setdefault(dep, {"name": dep, "version": dist.version, "requirement": requirement})
    queue.extend((dep, r, tuple(wanted)) for r in dist.requires or [])

json.dump({"packages": sorted(packages.values(), key=lambda p: p["name"]), "edges": edges}, sys.stdout)
