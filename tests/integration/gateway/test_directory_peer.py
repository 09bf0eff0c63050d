"""A peer's newer directory seen on an exchange (protocol/SPEC.md 18.6): every answer of a
gateway to an envelope carries the directory it holds (Mlagw-Directory: <publisher> <serial>
<port>); a gateway holding an older serial of the same publisher fetches it from that peer's
directory listener and adopts it once verified (one directory-adopted entry). A bogus
advertisement (a higher serial whose document is badly signed, or where no document is
served) is refused with a log line, not fetched again, and exchanges go on."""
import http.server
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from test_directory import Directory, install, directory_config, log_has, exchange  # noqa: E402
from test_directory_fetch import Served, read, serve_tls  # noqa: E402


class FakePeer:
    """ES's peer endpoint as a liar: answers every envelope 503 (the sender keeps it and
    retries) with a Mlagw-Directory header advertising a serial of its choosing."""

    def __init__(self, net, advert):
        outer = self
        self.advert, self.hits = advert, 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get('Content-Length', '0')))
                outer.hits += 1
                body = b'503 busy\n'
                self.send_response(503)
                self.send_header('Retry-After', '1')
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Mlagw-Directory', outer.advert)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.srv, self.port = serve_tls(net, H)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def adopted(gw):
    return [e['directory-serial'] for e in gw.audit() if e['event'] == 'directory-adopted']


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    d = Directory(net, ['ES', 'CO'])
    d1 = d.publish(1)
    es_file = os.path.join(net.dir, 'es-directory.xml')
    co_file = os.path.join(net.dir, 'co-directory.xml')
    install(d1, es_file)
    install(d1, co_file)
    es_port = free_port()
    directory_config(es, es_file, extra={'directory': {
        'file': es_file, 'publisher': 'ES', 'listen': '127.0.0.1:%d' % es_port}})
    directory_config(co, co_file)
    for g in (es, co):
        g.start(wait=False)
    for g in (es, co):
        g.wait_ready()
    exchange(net, 'CO', 'ES', 'serial 1 on both')

    d2 = d.publish(2)
    install(d2, es_file)
    es.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: log_has(es, 'directory-adopted msg=- serial=2'), 20, msg='ES on serial 2')
    exchange(net, 'CO', 'ES', 'tells CO of serial 2')
    wait_until(lambda: log_has(co, 'directory-adopted msg=- serial=2'), 30,
               msg='CO fetched serial 2 from ES')
    check(log_has(co, 'directory-seen msg=- peer=ES serial=2 url=https://127.0.0.1:%d'
                  '/.well-known/mlagw/directory.xml' % es_port), 'the fetch not logged')
    check(read(co_file) == read(d2), 'the fetched directory replaced the file')
    exchange(net, 'CO', 'ES', 'after the adoption')
    print('ok - a newer serial advertised on an exchange is fetched, verified and adopted')

    # a liar advertises serial 3, whose document is badly signed
    bad = Served(net, read(d.publish(3)).replace(b'Central authority of CO',
                                                  b'Central authority of XX'))
    liar = FakePeer(net, 'ES 3 %d' % bad.port)
    co.stop()
    directory_config(co, co_file, extra={'peer ES': {'url': 'https://127.0.0.1:%d/mla/v1/'
                                                     'envelopes' % liar.port}})
    co.start()
    co.submit('ES', doc=b'<Request>to the liar</Request>')
    wait_until(lambda: log_has(co, 'directory-fetch-refused'), 30, msg='bogus serial refused')
    check('does not verify' in co.log_text(), 'the refusal names why')
    wait_until(lambda: liar.hits >= 3, 30, msg='the sender retried')
    check(co.log_text().count('directory-seen msg=- peer=ES serial=3') == 1,
          'the bogus serial fetched more than once')
    check(read(co_file) == read(d2) and adopted(co) == ['1', '2'], 'CO left serial 2')
    # the refusal is in the audit log: the peer and why, nothing of the document
    ref = [e for e in co.audit() if e['event'] == 'directory-refused']
    check(len(ref) == 1 and ref[0]['from'] == 'ES' and ref[0]['reason'] == 'peer ES' and
          ref[0]['error'] not in ('-', '') and ref[0]['message'] == '-' and
          'directory-sha256' not in ref[0], 'directory-refused entries %r' % ref)
    # after a restart (the per-peer memory is gone): serial 4 where no document is served
    co.stop()
    liar.advert = 'ES 4 %d' % free_port()
    co.start()
    wait_until(lambda: log_has(co, 'directory-seen msg=- peer=ES serial=4'), 30,
               msg='serial 4 advertised')
    wait_until(lambda: log_has(co, 'directory-fetch-failed'), 30, msg='no document: logged')
    check(read(co_file) == read(d2), 'CO left serial 2 for a missing document')
    co.stop()
    liar.close()
    bad.close()
    check(adopted(co) == ['1', '2'], 'entries %r' % adopted(co))
    print('ok - a bogus serial advertised (badly signed, or no document) is refused with a '
          'log line and a directory-refused audit entry naming the peer, once; serial 2 '
          'stays')
    net.stop_all()


if __name__ == '__main__':
    run(main)
