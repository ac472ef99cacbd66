#!/usr/bin/env python3
"""Prints one closing line for meson test logs: 'N passed, N failed'.

Counts the individual cmocka test cases inside each test program (its
'[ RUN      ]' and '[       OK ]' lines); a program without cmocka output
counts as one test.
"""
import json
import re
import sys

passed = failed = 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            out = (r.get("stdout") or "") + (r.get("stderr") or "")
            run = len(re.findall(r"^\[ RUN      \] ", out, re.M))
            p = len(re.findall(r"^\[       OK \] ", out, re.M))
            x = run - p
            ok = r.get("result") in ("OK", "EXPECTEDFAIL")
            if p == 0 and x == 0:
                p, x = (1, 0) if ok else (0, 1)
            elif not ok and x == 0:
                x = 1
            passed += p
            failed += x
            if not ok:
                print("FAILED: %s (%s)" % (r.get("name"), path))
print("%d passed, %d failed" % (passed, failed))
