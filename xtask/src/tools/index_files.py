"""Which files a package index holds for one release, with their sha256.

Usage: python3 index_files.py KIND URL
  KIND json:   a PyPI JSON API URL (https://pypi.org/pypi/NAME/VERSION/json)
  KIND simple: a PEP 503/691 simple page (https://host/simple/NAME/)
Prints one JSON object {filename: sha256}; an unknown project or version is
an empty object. Credentials, when the index needs them to read, come from
TWINE_USERNAME / TWINE_PASSWORD in the environment, never from argv.
Standard library only: this runs under the user's python3.
"""

import base64
import json
import os
import re
import sys
import urllib.error
import urllib.request


def fetch(url, accept):
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "cargo-xtask"})
    user, password = os.environ.get("TWINE_USERNAME"), os.environ.get("TWINE_PASSWORD")
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        sys.exit(f"{url}: HTTP {err.code} {err.reason}")
    except urllib.error.URLError as err:
        sys.exit(f"{url}: {err.reason}")


def main():
    kind, url = sys.argv[1], sys.argv[2]
    files = {}
    if kind == "json":
        body = fetch(url, "application/json")
        if body:
            for entry in json.loads(body).get("urls", []):
                files[entry["filename"]] = entry["digests"]["sha256"]
    else:
        body = fetch(url, "application/vnd.pypi.simple.v1+json, text/html;q=0.5")
        if body and body.lstrip().startswith("{"):
            for entry in json.loads(body).get("files", []):
                files[entry["filename"]] = entry.get("hashes", {}).get("sha256")
        elif body:
            for match in re.finditer(r'<a\s[^>]*href="[^"#]*#sha256=([0-9a-fA-F]{64})"[^>]*>\s*([^<]+?)\s*</a>', body):
                files[match.group(2)] = match.group(1).lower()
    print(json.dumps(files, sort_keys=True))


main()
