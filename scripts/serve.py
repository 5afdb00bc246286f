#!/usr/bin/env python3
"""Serve the page with cross-origin isolation (COOP same-origin + COEP require-corp), so the
browser grants SharedArrayBuffer and the page can load its threaded CPU build.

    python3 scripts/serve.py [PORT] [--no-isolation]

--no-isolation serves without the two headers (what a static host that cannot set headers
does): the page then loads its single-thread build and says so. Files are served from the
current directory, as `python3 -m http.server` does, with the wasm MIME type.
"""
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    isolate = True
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, '.wasm': 'application/wasm', '.js': 'text/javascript', '.mjs': 'text/javascript'}

    def end_headers(self):
        if self.isolate:
            self.send_header('Cross-Origin-Opener-Policy', 'same-origin')
            self.send_header('Cross-Origin-Embedder-Policy', 'require-corp')
        super().end_headers()

    def log_message(self, *args):
        pass


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    port = int(args[0]) if args else 8080
    Handler.isolate = '--no-isolation' not in sys.argv
    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), functools.partial(Handler, directory='.'))
    server.serve_forever()


if __name__ == '__main__':
    main()
