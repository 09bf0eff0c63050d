"""The man pages cannot drift from the code (issue 18): every key the configuration reader
accepts (tests/tools/config_keys, from the reader's own tables) is named in its section of
mlagwd.conf(5); every command and subcommand the CLI dispatches on (the strings its
dispatchers compare, cli/*.c) is named in mlagw(1); every option of `mlagwd --help` is
named in mlagwd(8). Names count when set in bold (*name*) in the scdoc source.
usage: man_pages.py SOURCE_ROOT CONFIG_KEYS_EXE MLAGWD_EXE"""
import glob
import os
import re
import subprocess
import sys

BOLD = re.compile(r'\*([^*\n]+)\*')


def bold_words(text):
    words = set()
    for span in BOLD.findall(text):
        words.update(w.strip(',.') for w in re.split(r'[\s,|]+', span) if w)
    return words


def sections_of(scd):
    """'[gateway]' -> the text up to the next level-1 heading."""
    out = {}
    for part in re.split(r'^# ', scd, flags=re.M)[1:]:
        head, _, body = part.partition('\n')
        out[head.strip()] = body
    return out


def check_conf(root, config_keys, bad):
    scd = open(os.path.join(root, 'docs/man/mlagwd.conf.5.scd')).read()
    secs = sections_of(scd)
    keys = [l.split(' ', 1) for l in subprocess.run([config_keys], check=True, capture_output=True,
                                                     text=True).stdout.splitlines()]
    if len(keys) < 100:
        bad.append('config_keys listed only %d keys' % len(keys))
    for sec, key in keys:
        head = '[peer CC]' if sec == 'peer' else '[%s]' % sec
        if head not in secs:
            bad.append('mlagwd.conf(5): no section "# %s"' % head)
        elif key not in bold_words(secs[head]):
            bad.append('mlagwd.conf(5): %s %s is not documented' % (head, key))
    return len(keys)


def cli_commands(root):
    names = set()
    for f in glob.glob(os.path.join(root, 'cli', '**', '*.c'), recursive=True):
        text = open(f).read()
        names.update(re.findall(r'strcmp\(\s*(?:argv\[1\]|sub|cmd)\s*,\s*"([a-z][a-z-]*)"\s*\)',
                                text))
        for arr in re.findall(r'cmds\[\]\s*=\s*\{([^}]*)\}', text):
            names.update(re.findall(r'"([a-z][a-z-]*)"', arr))
    return names


def check_named(root, page, names, what, least, bad):
    """Each of names (at least `least` of them) in bold in docs/man/PAGE.scd."""
    words = bold_words(open(os.path.join(root, 'docs/man/%s.scd' % page)).read())
    if len(names) < least:
        bad.append('found only %d %ss' % (len(names), what))
    for n in sorted(names):
        if n not in words:
            bad.append('%s: %s %s is not documented' % (page, what, n))
    return len(names)


def check_cli(root, bad):
    return check_named(root, 'mlagw.1', cli_commands(root), 'command', 40, bad)


def check_daemon(root, mlagwd, bad):
    usage = subprocess.run([mlagwd, '--help'], capture_output=True, text=True).stdout
    opts = set(re.findall(r'(--[a-z][a-z-]*)', usage))
    return check_named(root, 'mlagwd.8', opts, 'option', 8, bad)


def main(root, config_keys, mlagwd):
    bad = []
    n = (check_conf(root, config_keys, bad), check_cli(root, bad),
         check_daemon(root, mlagwd, bad))
    for b in bad:
        print(b)
    print('man pages: %d configuration keys, %d CLI commands, %d mlagwd options checked' % n)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
