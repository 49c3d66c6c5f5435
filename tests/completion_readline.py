#!/usr/bin/env python3
# completion_readline.py - the bash completion as a user gets it: an
# interactive bash on a pseudo-terminal sources the completion script,
# a prefix is typed and TAB pressed, and readline (bash's own word
# splitting, COMP_WORDBREAKS and all) completes the line; the line is
# then echoed back (C-a, "echo LINE:", C-e, Enter) and compared.
# completion.sh calls the completion function with the words set by
# hand; this test runs the whole machinery on a few prefixes whose
# completion is unique.
#
# usage: completion_readline.py SPFCHECK SCRIPT
# Prints "completion-readline: N passed, N failed".
import os
import pty
import re
import select
import sys
import tempfile
import time

# (typed, the line after one TAB)
CASES = [
    ('spfcheck che', 'spfcheck check '),
    ('spfcheck --vers', 'spfcheck --version '),
    ('spfcheck au', 'spfcheck audit '),
    ('spfcheck check --identity he', 'spfcheck check --identity helo '),
    ('spfcheck check --identity=mf', 'spfcheck check --identity=mfrom '),
    ('spfcheck check --void-count p', 'spfcheck check --void-count per-query '),
    ('spfcheck explain --header a', 'spfcheck explain --header auth-results '),
    ('spfcheck explain --format d', 'spfcheck explain --format dot '),
    ('spfcheck report --format h', 'spfcheck report --format html '),
    ('spfcheck audit --cs', 'spfcheck audit --csv '),
    ('spfcheck policyd --log-format c', 'spfcheck policyd --log-format compact '),
    # a value's start: no space after it
    ('spfcheck policyd --listen u', 'spfcheck policyd --listen unix:'),
    ('spfcheck lint --zone dra', 'spfcheck lint --zone draft.zone '),
]
TIMEOUT = 30   # seconds for bash to answer one line (it runs --help once)


def main():
    if len(sys.argv) != 3:
        print('usage: completion_readline.py SPFCHECK SCRIPT', file=sys.stderr)
        return 64
    spfcheck = os.path.abspath(sys.argv[1])
    script = os.path.abspath(sys.argv[2])
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        bindir = os.path.join(tmp, 'bin')
        work = os.path.join(tmp, 'work')
        os.mkdir(bindir)
        os.mkdir(work)
        os.symlink(spfcheck, os.path.join(bindir, 'spfcheck'))
        open(os.path.join(work, 'draft.zone'), 'w').close()
        env = dict(os.environ, PATH=bindir + ':' + os.environ.get('PATH', ''),
                   PS1='$ ', TERM='dumb', INPUTRC='/dev/null',
                   HISTFILE='/dev/null', HOME=tmp, LC_ALL='C.UTF-8')
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(work)
            os.execvpe('bash', ['bash', '--norc', '--noprofile', '-i'], env)

        buf = b''

        def wait_for(pattern):
            """The first match of pattern in what bash writes, or None."""
            nonlocal buf
            end = time.monotonic() + TIMEOUT
            while True:
                m = re.search(pattern, buf)
                if m:
                    buf = buf[m.end():]
                    return m
                left = end - time.monotonic()
                if left <= 0:
                    return None
                r, _, _ = select.select([fd], [], [], left)
                if not r:
                    continue
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return None
                if not data:
                    return None
                buf += data

        os.write(fd, b'. %s && echo "SOURCED:$(complete -p spfcheck)"\n'
                 % script.encode())
        m = wait_for(rb'\nSOURCED:([^\r\n]*)\r\n')
        if m and m.group(1).endswith(b' spfcheck'):
            print('ok   sourced: %s' % m.group(1).decode())
            passed += 1
        else:
            print('FAIL sourced: %r' % (m.group(1) if m else buf[-300:]))
            failed += 1
        for typed, want in CASES:
            # TAB completes; readline takes the keys in order, so C-a
            # acts on the completed line
            os.write(fd, typed.encode() + b'\t\x01echo "LINE:\x05"\n')
            m = wait_for(rb'\nLINE:([^\r\n]*)\r\n')
            got = m.group(1).decode('utf-8', 'replace') if m else None
            if got == want:
                print('ok   %r + TAB -> %r' % (typed, want))
                passed += 1
            else:
                print('FAIL %r + TAB -> %r, want %r%s' % (
                    typed, got, want, '' if m else ' (%r)' % buf[-300:]))
                failed += 1
                if not m:
                    break
        try:
            os.write(fd, b'exit\n')
        except OSError:
            pass
        end = time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    os.read(fd, 4096)
                except OSError:
                    pass
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    print('completion-readline: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
