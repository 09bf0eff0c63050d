"""The directory's distribution (protocol/SPEC.md 18.6): a gateway serves its signed entry and
the directory in force at /.well-known/mlagw/ to clients without certificates, GET only; a
gateway fetches the directory from its URLs on a schedule, passing over one that does not
answer, and adopts a newer one only after verifying it (a tampered one is refused, the one
held stays); a directory file replaced by hand is loaded within a minute."""
import http.server
import os
import signal
import ssl
import sys
import threading
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from test_directory import Directory, install, directory_config, log_has, exchange  # noqa: E402


def fetch(net, port, path, method='GET'):
    ctx = ssl.create_default_context(cafile=net.pki('ES', 'root.crt'))
    ctx.check_hostname = False
    c = http.client.HTTPSConnection('127.0.0.1', port, context=ctx, timeout=10)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def serve_tls(net, handler):
    """An HTTPS server on loopback with ES's TLS key, run on a thread: (server, port)."""
    port = free_port()
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(net.pki('ES', 'tls.crt'), net.pki('ES', 'tls.key'))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, port


class Served:
    """An HTTPS server with ES's TLS key serving fixed bytes: a publisher gone wrong."""

    def __init__(self, net, body):
        outer = self
        self.body = body

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header('Content-Length', str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *a):
                pass
        self.srv, self.port = serve_tls(net, H)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    d = Directory(net, ['ES', 'CO'])
    d1 = d.publish(1)
    es_file = os.path.join(net.dir, 'es-directory.xml')
    co_file = os.path.join(net.dir, 'co-directory.xml')
    install(d1, es_file)
    install(d1, co_file)
    es_port = free_port()
    bad = Served(net, b'')
    bad.body = read(d1).replace(b'Central authority of CO', b'Central authority of XX')
    well_known = 'https://127.0.0.1:%d/.well-known/mlagw/directory.xml' % es_port
    dead = 'https://127.0.0.1:%d/.well-known/mlagw/directory.xml' % free_port()
    directory_config(net['ES'], es_file, extra={'directory': {
        'file': es_file, 'publisher': 'ES', 'listen': '127.0.0.1:%d' % es_port,
        'entry': d.signed['ES']}})
    directory_config(net['CO'], co_file, extra={'directory': {
        'file': co_file, 'publisher': 'ES', 'url': [dead, well_known],
        'fetch_interval': '1s'}})
    for g in (net['ES'], net['CO']):
        g.start(wait=False)
    for g in (net['ES'], net['CO']):
        g.wait_ready()

    code, body = fetch(net, es_port, '/.well-known/mlagw/entry.xml')
    check(code == 200 and body == read(d.signed['ES']), 'entry: %d' % code)
    code, body = fetch(net, es_port, '/.well-known/mlagw/directory.xml')
    check(code == 200 and body == read(d1), 'directory: %d' % code)
    code, _ = fetch(net, es_port, '/.well-known/mlagw/other.xml')
    check(code == 404, 'unknown path: %d' % code)
    code, _ = fetch(net, es_port, '/.well-known/mlagw/directory.xml', method='POST')
    check(code in (405, 501), 'POST: %d' % code)
    print('ok - the signed entry and the directory are served to a client without a certificate')

    # ES adopts serial 2 on a reload and serves it; CO fetches it (past the dead URL) and adopts
    d2 = d.publish(2)
    install(d2, es_file)
    net['ES'].proc.send_signal(signal.SIGHUP)
    wait_until(lambda: fetch(net, es_port, '/.well-known/mlagw/directory.xml')[1] == read(d2),
               20, msg='ES serves serial 2')
    wait_until(lambda: log_has(net['CO'], 'directory-adopted msg=- serial=2'), 30,
               msg='CO fetched and adopted serial 2')
    check(read(co_file) == read(d2), 'the fetched directory replaced the file')
    check(log_has(net['CO'], 'directory-fetched msg=- url=' + well_known), 'fetch not logged')
    exchange(net, 'CO', 'ES', 'after the fetch')
    print('ok - a newer directory is fetched on schedule, verified and adopted')

    # a tampered one at the first URL: refused, serial 2 stays
    d3 = d.publish(3)
    bad.body = read(d3).replace(b'Central authority of CO', b'Central authority of XX')
    net['CO'].stop()
    directory_config(net['CO'], co_file, extra={'directory': {
        'file': co_file, 'publisher': 'ES', 'url': 'https://127.0.0.1:%d/d.xml' % bad.port,
        'fetch_interval': '1s'}})
    net['CO'].start()
    wait_until(lambda: log_has(net['CO'], 'directory-fetch-refused'), 30,
               msg='tampered directory refused')
    check('does not verify' in net['CO'].log_text(), 'refusal names why')
    check(read(co_file) == read(d2), 'a refused directory replaced the file')
    check(not os.path.exists(co_file + '.fetched'), 'the refused download stayed')
    exchange(net, 'CO', 'ES', 'after a refused fetch')
    ref = [e for e in net['CO'].audit() if e['event'] == 'directory-refused']
    check(len(ref) == 1 and ref[0]['from'] == '-' and ref[0]['reason'] == 'fetched' and
          ref[0]['error'] not in ('-', ''), 'directory-refused entries %r' % ref)
    bad.close()
    print('ok - a tampered directory fetched is refused; the one held stays')

    # a file replaced by hand is loaded within a minute, without a signal
    d4 = d.publish(4)
    install(d4, co_file)
    wait_until(lambda: log_has(net['CO'], 'directory-adopted msg=- serial=4'), 90,
               msg='the replaced file reloaded')
    check(log_has(net['CO'], 'directory-changed'), 'the change not logged')
    exchange(net, 'CO', 'ES', 'after the file changed')
    print('ok - a replaced directory file is loaded without a signal')
    net.stop_all()


if __name__ == '__main__':
    run(main)
