#!/usr/bin/env python3
"""tty_answer.py - run a command on a pseudo-terminal and answer its prompts.

Usage: tty_answer.py SECONDS PROMPT ANSWER [PROMPT ANSWER ...] -- CMD [ARGS...]

The end-to-end tests type passphrases at prompts that read /dev/tty (lacre's
no-echo prompt, age -d, age -p).  They used to pipe "(sleep 1; printf ...)"
into script(1) and hope the prompt was up by then: timing as synchronisation.
This waits for each PROMPT (a substring of what the command wrote to the
terminal since the previous answer) and only then types ANSWER and a newline.

Everything the command wrote to the terminal is copied to stdout.  Exit
status: the command's (128 + N when signal N killed it); 124 with a message
on stderr when a prompt did not come, or the command did not end, within
SECONDS in all (the deadline bounds a hang, it does not pace the dialogue).
"""
import os
import pty
import select
import sys
import time


def main():
    argv = sys.argv[1:]
    if '--' not in argv or len(argv) < 3:
        sys.exit(__doc__.split('\n\n')[1])
    sep = argv.index('--')
    deadline = time.monotonic() + float(argv[0])
    pairs = argv[1:sep]
    cmd = argv[sep + 1:]
    if len(pairs) % 2 or not cmd:
        sys.exit('tty_answer.py: PROMPT ANSWER pairs, then -- CMD')
    dialogue = [(pairs[i].encode(), pairs[i + 1].encode()) for i in range(0, len(pairs), 2)]

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)

    seen = b''
    out = sys.stdout.buffer
    eof = False
    while not eof:
        left = deadline - time.monotonic()
        if left <= 0:
            waiting = dialogue[0][0].decode() if dialogue else 'the end of the command'
            sys.stderr.write('tty_answer.py: still waiting for %r after %s s\n' % (waiting, argv[0]))
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            sys.exit(124)
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:          # EIO: the command closed the terminal
            chunk = b''
        if not chunk:
            eof = True
        seen += chunk
        out.write(chunk)
        out.flush()
        if dialogue and dialogue[0][0] in seen:
            seen = seen[seen.index(dialogue[0][0]) + len(dialogue[0][0]):]
            os.write(fd, dialogue[0][1] + b'\n')
            dialogue.pop(0)
    _, status = os.waitpid(pid, 0)
    if dialogue:
        sys.stderr.write('tty_answer.py: the command ended before the prompt %r\n' % dialogue[0][0].decode())
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == '__main__':
    main()
