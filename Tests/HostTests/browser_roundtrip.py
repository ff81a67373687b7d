#!/usr/bin/env python3
"""The OAuth round trip in a real browser, for Tests/HostTests/browser.sh.

Starts a fake provider and a fake Junction on two loopback ports, then drives one browser (Chromium through Debian's
chromedriver, or Firefox ESR through its own Marionette port) through every case twice or more: once with the
provider's redirect going straight to the fake Junction, then through each "your domain" URL given (nginx with the
daemon, Apache with the CGI). The fake Junction records the raw request line, method, headers and body of what
reaches it; each path must bring it the same request target, and for form_post the same method and body.

    browser_roundtrip.py chromium|firefox PROVIDER_PORT JUNCTION_PORT SCRATCH NAME=URL...

Prints what the browser changed in each case (the same on every path) and exits 1 on any difference.
"""

import base64
import hashlib
import html
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STEP_TIMEOUT = 30


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def link_token():
    """A Link Token as Junction issues them: a JWT whose base64url parts hold both - and _."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = {"aud": "https://api.sandbox.us.junction.com/v2/link", "sub": "link-session", "team_id": "team-0",
               "user_id": "user?>~"}
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    token = f"{header}.{body}.{b64url(hashlib.sha256(b'sig0').digest())}"
    assert "-" in token and "_" in token, token
    return token


TOKEN = link_token()
LONG_STATE = (TOKEN * 60)[:7168]

# name: (provider, query after '?' or None for no '?', form fields for form_post or None, expected outcome).
# "same" means every path must bring the fake Junction the same request, and the browser the same fragment;
# "reachability" means a request without a query, which your domain answers itself with its 200 page and never
# forwards (a provider's console checking the URL, a person trying it).
CASES = [
    ("link_token_and_code_escapes", "oura", f"code=a%2Bb+c%20d%2Fe%3D%3D%25f==&state={TOKEN}", None, "same"),
    ("state_7kb", "oura", f"code=abc123&state={LONG_STATE}", None, "same"),
    ("error_callback", "oura",
     f"error=access_denied&error_description=The+user+denied+access&state={TOKEN}", None, "same"),
    ("raw_query_characters", "oura", "code=a|b^c{d}e`f'g&state=s|t^u{v}w`x'y", None, "same"),
    ("percent_encoded_non_ascii", "oura", "code=caf%C3%A9&state=%E2%9C%93%F0%9F%98%80%FF", None, "same"),
    ("empty_query", "oura", None, None, "reachability"),
    ("provider_with_underscore_and_digits", "acme_fit_2", f"code=xyz789&state={TOKEN}", None, "same"),
    ("form_post_2kb", "oura", None,
     [("code", "a+b c/d=e%f&g"), ("state", (TOKEN + "+/= &") * 9)], "same"),
    ("bare_question_mark", "oura", "", None, "reachability"),
    # Fitbit and Facebook append #_=_ to the callback: the server never sees a fragment, and a browser carries it
    # across a redirect whose Location has none (RFC 9110, 10.2.2), so the target page still has it.
    ("fragment_kept", "fitbit", f"code=abc123&state={TOKEN}#_=_", None, "same"),
]


def answer(handler, status, page, location=None):
    """An answer no cache keeps, so that each run of a case reaches the fakes again."""
    handler.send_response(status)
    if location is not None:
        handler.send_header("Location", location)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(page)))
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    handler.wfile.write(page)


class Junction(BaseHTTPRequestHandler):
    """The fake Junction: records every request to /v2/link/connect/ and answers 200 with a small page."""

    records = []
    arrived = threading.Condition()

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/v2/link/connect/"):
            with Junction.arrived:
                Junction.records.append({
                    "line": self.raw_requestline.rstrip(b"\r\n"),
                    "method": self.command,
                    "target": self.raw_requestline.split(b" ")[1],
                    "headers": self.headers.items(),
                    "body": body,
                })
                Junction.arrived.notify_all()
            # The title carries the fragment the page was reached with, which only the browser knows.
            answer(self, 200, b"<!doctype html><title>junction-ok</title><p>connected</p>"
                   b"<script>document.title = 'junction-ok' + location.hash</script>")
        else:
            answer(self, 404, b"not found")

    do_GET = do_POST = do_HEAD = handle_any

    def log_message(self, *args):
        pass


class Provider(BaseHTTPRequestHandler):
    """The fake provider: /authorize?case=NAME&via=PATH redirects to that path's callback, as real providers do,
    or for a form_post case answers a page that posts the form to it."""

    bases = {}

    def do_GET(self):
        params = parse_qs(urlsplit(self.path).query)
        if urlsplit(self.path).path != "/authorize" or "case" not in params:
            self.send_error(404)
            return
        _, provider, query, form, _ = next(case for case in CASES if case[0] == params["case"][0])
        callback = f"{Provider.bases[params['via'][0]]}/{provider}"
        if form is None:
            answer(self, 302, b"", location=callback if query is None else f"{callback}?{query}")
            return
        inputs = "".join(f'<input type="hidden" name="{name}" value="{html.escape(value)}">' for name, value in form)
        page = (f'<!doctype html><title>provider</title><form method="post" action="{callback}">{inputs}</form>'
                "<script>document.forms[0].submit()</script>").encode()
        answer(self, 200, page)

    def log_message(self, *args):
        pass


def serve(handler, port):
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Chromium:
    """Debian's chromium through Debian's chromedriver. As root, Chromium needs --no-sandbox."""

    def __init__(self, scratch):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", f"--user-data-dir={scratch}/chromium-profile"):
            options.add_argument(argument)
        service = Service("/usr/bin/chromedriver", log_path=f"{scratch}/chromedriver.log")
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(STEP_TIMEOUT)
        self.version = self.driver.capabilities.get("browserVersion", "?")

    def navigate(self, url):
        self.driver.get(url)

    def title(self):
        return self.driver.title

    def page_source(self):
        return self.driver.page_source

    def quit(self):
        self.driver.quit()


class Firefox:
    """Firefox ESR headless through Marionette, the remote protocol built into Firefox, spoken here directly:
    Debian has no geckodriver. Marionette's port 0 lets Firefox pick one and write it to the profile."""

    def __init__(self, scratch):
        profile = f"{scratch}/firefox-profile"
        os.makedirs(profile)
        prefs = {"marionette.port": 0, "browser.shell.checkDefaultBrowser": False,
                 "datareporting.policy.dataSubmissionEnabled": False,
                 "toolkit.telemetry.reportingpolicy.firstRun": False,
                 "app.update.disabledForTesting": True, "browser.startup.homepage_override.mstone": "ignore",
                 "browser.startup.page": 0, "network.captive-portal-service.enabled": False,
                 "network.connectivity-service.enabled": False, "browser.safebrowsing.malware.enabled": False,
                 "browser.safebrowsing.phishing.enabled": False, "dom.security.https_first": False}
        with open(f"{profile}/user.js", "w") as file:
            file.writelines(f"user_pref({json.dumps(key)}, {json.dumps(value)});\n" for key, value in prefs.items())
        log = open(f"{scratch}/firefox.log", "wb")
        env = dict(os.environ, HOME=scratch, MOZ_HEADLESS="1")
        self.process = subprocess.Popen(["firefox-esr", "--headless", "--marionette", "--no-remote", "--profile",
                                         profile, "about:blank"], stdout=log, stderr=log, env=env)
        port_file = f"{profile}/MarionetteActivePort"
        deadline = time.monotonic() + STEP_TIMEOUT
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Firefox wrote no Marionette port; see {scratch}/firefox.log")
            time.sleep(0.1)
        self.socket = socket.create_connection(("127.0.0.1", int(open(port_file).read())), timeout=STEP_TIMEOUT)
        self.buffer = b""
        self.next_id = 0
        self.read_message()
        session = self.command("WebDriver:NewSession", {})
        self.version = session["capabilities"]["browserVersion"]

    def read_message(self):
        while b":" not in self.buffer:
            self.receive()
        length, _, rest = self.buffer.partition(b":")
        while len(rest) < int(length):
            self.receive()
            length, _, rest = self.buffer.partition(b":")
        self.buffer = rest[int(length):]
        return json.loads(rest[:int(length)])

    def receive(self):
        chunk = self.socket.recv(65536)
        if not chunk:
            raise RuntimeError("Marionette closed the connection")
        self.buffer += chunk

    def command(self, name, parameters):
        self.next_id += 1
        message = json.dumps([0, self.next_id, name, parameters]).encode()
        self.socket.sendall(str(len(message)).encode() + b":" + message)
        _, message_id, error, result = self.read_message()
        assert message_id == self.next_id, (message_id, self.next_id)
        if error:
            raise RuntimeError(f"{name}: {error}")
        return result

    def navigate(self, url):
        self.command("WebDriver:Navigate", {"url": url})

    def title(self):
        return self.command("WebDriver:GetTitle", {})["value"]

    def page_source(self):
        return self.command("WebDriver:GetPageSource", {})["value"]

    def quit(self):
        try:
            self.command("Marionette:Quit", {})
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_flow(browser, provider_port, case, via):
    """One authorization through `via`; returns the one request the fake Junction recorded for it."""
    with Junction.arrived:
        Junction.records.clear()
    browser.navigate(f"http://127.0.0.1:{provider_port}/authorize?case={case}&via={via}")
    with Junction.arrived:
        if not Junction.arrived.wait_for(lambda: Junction.records, timeout=STEP_TIMEOUT):
            raise RuntimeError(f"{case} via {via}: nothing reached the fake Junction within {STEP_TIMEOUT} s")
    # The Junction's page has loaded, its script run, before the next case navigates away.
    deadline = time.monotonic() + STEP_TIMEOUT
    while not (title := browser.title()).startswith("junction-ok"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{case} via {via}: the browser never showed the fake Junction's page")
        time.sleep(0.05)
    with Junction.arrived:
        if len(Junction.records) != 1:
            raise RuntimeError(f"{case} via {via}: {len(Junction.records)} requests reached the fake Junction")
        return dict(Junction.records[0], fragment=title[len("junction-ok"):])


def run_reachability(browser, provider_port, case, provider, via):
    """One visit of the callback URL without a query through `via`: true when the browser shows your domain's own
    200 page for the provider and nothing reaches the fake Junction."""
    with Junction.arrived:
        Junction.records.clear()
    browser.navigate(f"http://127.0.0.1:{provider_port}/authorize?case={case}&via={via}")
    expected = f"This is the OAuth callback endpoint for {provider}."
    deadline = time.monotonic() + STEP_TIMEOUT
    while expected not in browser.page_source():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    with Junction.arrived:
        return not Junction.records


def shown(data, limit=100):
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} bytes)"


def header_differences(direct, through):
    """The request headers that differ between two paths, such as Referer and Origin after a cross-origin hop."""
    first, second = dict(direct), dict(through)
    names = [name for name in dict.fromkeys([*first, *second]) if first.get(name) != second.get(name)]
    return ", ".join(f"{name} {first.get(name, '(none)')} -> {second.get(name, '(none)')}" for name in names)


def main():
    kind, provider_port, junction_port, scratch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    domains = dict(argument.split("=", 1) for argument in sys.argv[5:])
    Provider.bases = {"direct": f"http://127.0.0.1:{junction_port}/v2/link/connect", **domains}
    servers = [serve(Provider, provider_port), serve(Junction, junction_port)]
    browser = None
    failures = 0
    try:
        browser = Chromium(scratch) if kind == "chromium" else Firefox(scratch)
        print(f"    {kind} {browser.version}")
        for name, provider, query, form, expected in CASES:
            direct = run_flow(browser, provider_port, name, "direct")
            sent = f"/v2/link/connect/{provider}" + ("" if query is None else f"?{query.split('#', 1)[0]}")
            changes = []
            if form is None and direct["target"] != sent.encode():
                changes.append(f"sent {shown(sent)}, the browser requested {shown(direct['target'])}")
            if form is not None:
                changes.append(f"the browser posted {shown(direct['body'], 80)}")
            if direct["fragment"]:
                changes.append(f"the page kept the fragment {direct['fragment']}")
            for via in domains:
                if expected == "reachability":
                    good = run_reachability(browser, provider_port, name, provider, via)
                    failures += not good
                    print(f"    {'ok' if good else 'FAIL'} {name} via {via}: your domain's 200 page, nothing forwarded")
                    continue
                through = run_flow(browser, provider_port, name, via)
                differences = [field for field in ("target", "method", "body", "fragment")
                               if through[field] != direct[field]]
                good = not differences
                if form is not None and through["method"] != "POST":
                    good = False
                if "#" in (query or "") and through["fragment"] != "#" + query.split("#", 1)[1]:
                    good = False
                failures += not good
                print(f"    {'ok' if good else 'FAIL'} {name} via {via}: {through['method']} "
                      f"{shown(through['target'])}{through['fragment']}"
                      + "".join(f"\n        {field} differs: direct {shown(direct[field])}, via {via} "
                                f"{shown(through[field])}" for field in differences))
                headers = header_differences(direct["headers"], through["headers"])
                if headers:
                    print(f"        headers only (not compared): {headers}")
            for change in changes:
                print(f"        on every path, {change}")
    finally:
        if browser is not None:
            browser.quit()
        for server in servers:
            server.shutdown()
    print(f"    {kind}: {len(CASES)} cases, {failures} failing")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
