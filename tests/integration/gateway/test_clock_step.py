"""The sender's wall clock steps back 2 s in the middle of a burst, then forward again (issue
11, finding 1): every acknowledged message is still delivered exactly once, the audit log's
entry times never go back, each step is recorded (a `clock-step` alert and log line naming
the step, and a `clock-stepped` audit entry, version 4, whose reason gives its signed size),
and the exported bundle verifies offline. Then it restarts 30 s behind its latest entry:
recorded too (entry reason `behind latest entry <ms> ms`, its time held at the latest
entry's), and the bundle still verifies."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402

TOTAL = 300


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='1s')
    es = net['ES']
    clock = FakeClock(net.dir, 'ES')
    for g in net.gws.values():
        g.write_config()
    net['CO'].start()
    es.start(env=clock.env())
    n0 = len(es.audit())

    def on_ack(n):  # the steps happen while submissions, sends and receipts go on
        if n == 100:
            clock.set(-2)
        elif n == 200:
            clock.set(0)
    acked = submit_burst(es, 'CO', TOTAL, threads=4, on_ack=on_ack)
    check(len(acked) == TOTAL, 'only %d of %d acknowledged' % (len(acked), TOTAL))
    check(clock.offset == 0, 'the burst did not pass both steps')
    check_exactly_once(net, 'ES', 'CO', acked)

    # stepped back while stopped: the restarted gateway starts behind its latest entry
    es.stop()
    clock.set(-30)
    es.start(env=clock.env())
    more = [es.submit('CO')['message_id'] for _ in range(5)]
    check_exactly_once(net, 'ES', 'CO', acked + more)
    behind = es.alerts('clock-step')
    # 30 s less the time since the latest entry (the stop and start: seconds under ASan)
    late = [int(m) for a in behind
            for m in re.findall(r'behind_latest_entry_ms=(-\d+)', a['detail'])]
    check(any(-31000 < n < -20000 for n in late),
          'no clock-step alert for a start 30 s behind: %r' % behind)
    net.stop_all()  # a clean stop signs the last checkpoint: the bundle holds every entry
    verify_exported(net, 'ES')
    verify_exported(net, 'CO')

    entries = es.audit()
    times = [e['time'] for e in entries]  # fixed width UTC: text order is time order
    back = [i for i in range(1, len(times)) if times[i] < times[i - 1]]
    check(not back, 'ES entry times go back at seq %r' % back[:5])
    check(len(entries) > n0 + 2 * TOTAL, 'ES audit has %d entries' % len(entries))

    steps = es.alerts('clock-step')
    sys.stderr.write('clock-step alerts: %r\n' % steps)
    check(len(steps) >= 2, 'clock-step alerts %r, want the step back and the step forward'
          % steps)
    sizes = [int(m) for a in steps for m in re.findall(r'step_ms=([-+]\d+)', a['detail'])]
    check(any(-2200 < n < -1800 for n in sizes) and any(1800 < n < 2200 for n in sizes),
          'clock-step alerts do not name a 2 s step back and one forward: %r' % steps)
    check('clock-step' in es.log_text(), 'ES log has no clock-step line')
    check_entries(entries, len(steps))


def step_size(reason):
    """The signed size of a running step's reason `step <ms> ms` (or `step <ms> ms (<n>
    steps)`, several summed under the one-a-minute cap), else None."""
    m = re.fullmatch(r'step (-?\d+) ms(?: \((\d+) steps\))?', reason)
    check(m is None or m.group(2) is None or int(m.group(2)) >= 2, 'reason %r' % reason)
    return int(m.group(1)) if m else None


def check_entries(entries, n_alerts):
    """The clock-stepped entries: a step back and one forward of about 2 s, the start 20-31 s
    behind with its time held at the latest entry's; no message, actor gateway; one entry
    per detected step at most."""
    cs = [(i, e) for i, e in enumerate(entries) if e['event'] == 'clock-stepped']
    sys.stderr.write('clock-stepped entries: %r\n' % [e['reason'] for _, e in cs])
    for _, e in cs:
        check(e['actor'] == 'gateway' and e['message'] == '-' and e['case'] == '-',
              'clock-stepped entry %s names more than the step: %r' % (e['seq'], e))
    check(0 < len(cs) <= n_alerts, '%d clock-stepped entries for %d clock-step alerts'
          % (len(cs), n_alerts))
    sizes = [n for n in (step_size(e['reason']) for _, e in cs) if n is not None]
    check(any(-2200 < n < -1800 for n in sizes) and any(1800 < n < 2200 for n in sizes),
          'clock-stepped entries do not name a 2 s step back and one forward: %r' % sizes)
    behind = [(i, int(m.group(1))) for i, e in cs
              for m in [re.fullmatch(r'behind latest entry (\d+) ms', e['reason'])] if m]
    check(any(20000 < n < 31000 for _, n in behind),
          'no clock-stepped entry for a start 30 s behind: %r' % behind)
    for i, _ in behind:  # written at start under a clock behind: held at the latest time
        check(i > 0 and entries[i]['time'] == entries[i - 1]['time'],
              'clock-stepped entry %d time %s, the latest before it %s' %
              (i, entries[i]['time'], entries[i - 1]['time'] if i else None))


run(main)
