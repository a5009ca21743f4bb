"""An HTTP server on the loopback address that records the paths it is asked for: to show that a
build fetched (or did not fetch) what a Dockerfile names."""
import contextlib
import http.server
import threading


@contextlib.contextmanager
def counting_server(body=b"fetched\n"):
    """-> (its URL, the list of paths asked for so far); stopped on exit."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's API
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()
