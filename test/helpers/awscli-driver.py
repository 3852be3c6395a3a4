# Named awscli-driver.py, not awscli.py: the script's folder comes first on sys.path, and a file
# named awscli would hide the awscli package.
"""Debian's awscli v2, one command per request, in one Python process.

Reads a JSON array of arguments per line on stdin (what would follow `aws`), runs it through
awscli's own entry point (awscli.clidriver.AWSCLIEntryPoint, as /usr/bin/aws does, and as
awscli's own functional tests do in process), and answers one JSON line:
{"code": rc, "stdout": "...", "stderr": "..."}. Each command gets a new driver and so a new
botocore session; only the Python start-up and the imports (about 1 s of CPU) are shared.
"""
import io
import json
import sys

import awscli.clidriver

protocol_out = sys.stdout
for line in sys.stdin:
    args = json.loads(line)
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    sys.stdout, sys.stderr = stdout, stderr
    try:
        code = awscli.clidriver.AWSCLIEntryPoint().main(args)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdout, sys.stderr = protocol_out, sys.__stderr__
    answer = {
        "code": code or 0,
        "stdout": stdout.buffer.getvalue().decode("utf-8", "replace"),
        "stderr": stderr.buffer.getvalue().decode("utf-8", "replace"),
    }
    protocol_out.write(json.dumps(answer) + "\n")
    protocol_out.flush()
