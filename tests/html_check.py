#!/usr/bin/env python3
"""html_check.py - what tests/html.sh asks of a page Chromium loaded
(issue 20).  Standard library only.

  html_check.py dom DUMP [--title T]... [--text T]... [--class C=T]...
      DUMP is `chromium --dump-dom`'s output: the DOM after load.  No
      element that runs or fetches anything (script, img, iframe, object,
      embed, link, audio, video, source, base, form, meta refresh), no
      event-handler attribute, no src/href but "#..." anchors and data:;
      the <title> holds each --title T, the page's text each --text T, an
      element of class C holds text T for each --class C=T.
  html_check.py net NETLOG
      Chromium's --log-net-log: every URL request the page made.  The
      browser's own services (update, clock, accounts: google.com,
      googleapis.com, gvt1.com; the proxy refuses them) are not the
      page's; any other request fails.
  html_check.py png FILE [--min-colours N] [--background dark|light]
      the screenshot is a PNG that is not blank: at least N distinct
      colours (default 8) and 1% of its pixels unlike the most common.
      --background: the most common colour (the page's background) is
      dark (relative luminance below 0.2) or light (above 0.8).
"""
import json
import re
import struct
import sys
import zlib
from html.parser import HTMLParser

BAD_ELEMENTS = {"script", "img", "iframe", "object", "embed", "link", "audio",
                "video", "source", "base", "form", "frame", "frameset",
                "applet", "portal", "track", "picture", "input", "button"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.stack = []          # (tag, classes)
        self.title = ""
        self.text = []
        self.by_class = {}       # class -> [text of each element]
        self.open_class = []     # (class, index into by_class[class])

    def handle_starttag(self, tag, attrs):
        classes = []
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an event handler {name}")
            if name in ("src", "href", "action", "formaction", "srcset",
                        "poster", "background", "xlink:href", "ping"):
                if not (value.startswith("#") or value.startswith("data:")):
                    self.problems.append(f"<{tag}> {name}={value!r} fetches")
            if name == "http-equiv" and value.lower() == "refresh":
                self.problems.append("a meta refresh")
            if name == "class":
                classes = value.split()
        if tag in BAD_ELEMENTS:
            self.problems.append(f"a <{tag}> element")
        if tag in VOID:
            return
        self.stack.append((tag, classes))
        for c in classes:
            self.by_class.setdefault(c, []).append("")
            self.open_class.append((c, len(self.by_class[c]) - 1, len(self.stack)))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            depth = len(self.stack)
            self.open_class = [o for o in self.open_class if o[2] <= depth]
            if t == tag:
                break

    def handle_data(self, data):
        if any(t == "title" for t, _ in self.stack):
            self.title += data
        self.text.append(data)
        for c, i, _ in self.open_class:
            self.by_class[c][i] += data


def dom(args):
    path = args[0]
    with open(path, encoding="utf-8", errors="strict") as f:
        d = Dom()
        d.feed(f.read())
        d.close()
    text = re.sub(r"\s+", " ", "".join(d.text))
    bad = list(d.problems)
    i = 1
    while i < len(args):
        opt, val = args[i], args[i + 1]
        i += 2
        if opt == "--title" and val not in d.title:
            bad.append(f"the title {d.title!r} has no {val!r}")
        elif opt == "--text" and val not in text:
            bad.append(f"no text {val!r} in the page")
        elif opt == "--class":
            cls, want = val.split("=", 1)
            got = [re.sub(r"\s+", " ", t) for t in d.by_class.get(cls, [])]
            if not any(want in t for t in got):
                bad.append(f"no element of class {cls} holds {want!r} "
                           f"(there are {got[:5]!r})")
    for b in bad:
        print(f"{path}: {b}")
    return 1 if bad else 0


BROWSER_HOSTS = re.compile(r"^https?://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com)(:\d+)?/")


def net(args):
    with open(args[0]) as f:
        log = json.load(f)
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    bad = set()
    for e in log.get("events", []):
        url = e.get("params", {}).get("url")
        if url is None or types.get(e["type"]) != "URL_REQUEST_START_JOB":
            continue
        if url.startswith("file://") or BROWSER_HOSTS.match(url):
            continue
        bad.add(url)
    for u in sorted(bad):
        print(f"{args[0]}: the page requested {u}")
    return 1 if bad else 0


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def png_pixels(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    width, height, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"unexpected PNG form depth={depth} type={ctype}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ft == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 0xff
        elif ft == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif ft == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xff
        elif ft == 4:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                upleft = prev[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + paeth(left, prev[x], upleft)) & 0xff
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def luminance(px):
    """WCAG relative luminance of an sRGB colour, 0 (black) to 1."""
    def lin(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in px)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def png(args):
    path = args[0]
    need, background = 8, None
    i = 1
    while i + 1 < len(args):
        if args[i] == "--min-colours":
            need = int(args[i + 1])
        elif args[i] == "--background" and args[i + 1] in ("dark", "light"):
            background = args[i + 1]
        else:
            print(f"png: unknown option {args[i]} {args[i + 1]}", file=sys.stderr)
            return 64
        i += 2
    width, height, bpp, rows = png_pixels(path)
    counts = {}
    for row in rows:
        for x in range(0, len(row), bpp):
            px = row[x:x + 3]
            counts[px] = counts.get(px, 0) + 1
    total = width * height
    bg = max(counts, key=counts.get)
    other = (total - counts[bg]) / total
    lum = luminance(bg)
    print(f"{path}: {width}x{height}, {len(counts)} colours, "
          f"{other:.1%} of the pixels unlike the background "
          f"#{bg.hex()} (luminance {lum:.2f})")
    ok = len(counts) >= need and other >= 0.01
    if background == "dark" and lum >= 0.2:
        print(f"{path}: the background is not dark")
        ok = False
    if background == "light" and lum <= 0.8:
        print(f"{path}: the background is not light")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    cmd = {"dom": dom, "net": net, "png": png}.get(sys.argv[1] if len(sys.argv) > 1 else "")
    if cmd is None:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    sys.exit(cmd(sys.argv[2:]))
