#!/usr/bin/env python3
# readme-examples.py - the README's examples print what the README says
# they print (issue 18: "each with real output"), and so do those of the
# doc pages given (meson passes the ones whose examples are whole, not cut
# with "...", and need no network).
#
# usage: readme-examples.py SPFCHECK SOURCE_DIR [FILE.md ...]
#
# In each ``` block (not ```sh or ```json) of the files (default:
# README.md), a line "$ COMMAND" starts a command, continued on the next
# lines while a line ends in "\" or "|"; the lines after it, up to the
# next "$ " or the end of the block, are what it must print on stdout,
# byte for byte.  A block's commands run in order in one bash, from
# SOURCE_DIR, with "spfcheck" the binary under test and the installed
# /etc/spfcheck/policyd.conf read as dist/policyd.conf (the same file),
# so "$ echo $?" sees the exit status of the command before it.  A block
# with no "$ " line is not an example (configuration lines, a usage
# synopsis) and is skipped.  Prints "readme-examples: N passed, N failed".
import os
import subprocess
import sys
import tempfile


def blocks(text):
    """Yield the lines of each plain ``` block."""
    cur = None
    for line in text.split('\n'):
        if cur is None:
            if line.startswith('```'):
                cur = [] if line.strip() == '```' else False
        elif line.startswith('```'):
            if cur is not False:
                yield cur
            cur = None
        elif cur is not False:
            cur.append(line)


def examples(lines):
    """[(command, expected stdout)] of one block."""
    out = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith('$ '):
            i += 1
            continue
        cmd = [lines[i][2:]]
        while cmd[-1].rstrip().endswith(('\\', '|')) and i + 1 < len(lines):
            i += 1
            cmd.append(lines[i])
        i += 1
        exp = []
        while i < len(lines) and not lines[i].startswith('$ '):
            exp.append(lines[i])
            i += 1
        out.append(('\n'.join(cmd), '\n'.join(exp) + '\n' if exp else ''))
    return out


def main():
    if len(sys.argv) < 3:
        print('usage: readme-examples.py SPFCHECK SOURCE_DIR [FILE.md ...]',
              file=sys.stderr)
        return 64
    spfcheck = os.path.abspath(sys.argv[1])
    src = sys.argv[2]
    files = sys.argv[3:] or ['README.md']
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, 'spfcheck'), 'w') as f:
            f.write('#!/bin/sh\nexec "%s" "$@"\n' % spfcheck)
        os.chmod(os.path.join(tmp, 'spfcheck'), 0o755)
        env = dict(os.environ, PATH=tmp + ':' + os.environ.get('PATH', ''),
                   NO_COLOR='1', LC_ALL='C.UTF-8')
        for name in files:
            with open(os.path.join(src, name), encoding='utf-8') as f:
                text = f.read()
            for block in blocks(text):
                ex = examples(block)
                if not ex:
                    continue
                script = []
                for n, (cmd, _) in enumerate(ex):
                    cmd = cmd.replace('/etc/spfcheck/policyd.conf',
                                      'dist/policyd.conf')
                    # the marker's printf must not hide the exit status
                    script.append("printf '\\n@@example %d@@\\n'\n(exit $rc)\n"
                                  "%s\nrc=$?" % (n, cmd))
                run = subprocess.run(['bash', '-c', 'rc=0\n' + '\n'.join(script)],
                                     cwd=src, env=env, capture_output=True,
                                     timeout=60)
                got = run.stdout.decode('utf-8', 'replace')
                parts = {}
                for n in range(len(ex)):
                    mark = '\n@@example %d@@\n' % n
                    a = got.find(mark)
                    if a < 0:
                        break
                    a += len(mark)
                    b = got.find('\n@@example %d@@\n' % (n + 1), a)
                    parts[n] = got[a:] if b < 0 else got[a:b]
                for n, (cmd, exp) in enumerate(ex):
                    first = cmd.split('\n')[0]
                    if parts.get(n) == exp:
                        print('ok   %s: $ %s' % (name, first))
                        passed += 1
                    else:
                        print('FAIL %s: $ %s' % (name, first))
                        print('  expected:\n' + exp + '  got:\n' +
                              parts.get(n, '(no output)') + '  stderr:\n' +
                              run.stderr.decode('utf-8', 'replace'))
                        failed += 1
    print('readme-examples: %d passed, %d failed' % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == '__main__':
    sys.exit(main())
