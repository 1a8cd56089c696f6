"""The report as one self-contained HTML page: right to left, Persian, readable on a phone and on paper.

Feed content is untrusted. Every piece of it goes through html.escape (quotes included), links are rendered
only for http(s) URLs (view.safe_link), and the page carries a Content-Security-Policy that allows no script,
no network and no form at all, so even a mistake in escaping could not run anything. No external asset: the
style is inline, the chart is inline SVG, fonts are whatever Persian font the reader's system has.
"""

from __future__ import annotations

from html import escape
from typing import Iterator

from monitor.report import chart
from monitor.report.view import ItemView, Report, Segment, jalali_words, period_text, persian_digits

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none';"
       " frame-ancestors 'none'")
FONTS = ('Vazirmatn, Vazir, Sahel, Shabnam, "IRANSans", Estedad, "Noto Naskh Arabic", "Noto Sans Arabic",'
         ' Tahoma, "DejaVu Sans", sans-serif')
STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: %(fonts)s; line-height: 1.8; margin: 0 auto; max-width: 52rem; padding: 1rem;
       color: #1b1b1b; background: #fff; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin: .2rem 0; } h2 { font-size: 1.2rem; border-bottom: 2px solid #ddd; }
h3 { font-size: 1.05rem; margin: 0 0 .2rem; }
.period, .meta, footer { color: #555; font-size: .9rem; }
table.counts { border-collapse: collapse; width: 100%%; margin: .5rem 0; }
table.counts th, table.counts td { border-bottom: 1px solid #e4e4e4; padding: .25rem .5rem; text-align: start; }
table.counts th { overflow-wrap: normal; white-space: nowrap; }
figure { margin: .5rem 0; }
table.counts td.n { text-align: center; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-inline-end: .4em; }
svg.chart { width: 100%%; height: auto; max-height: 16rem; direction: ltr; font-size: 14px; fill: #555; }
svg.chart .grid { stroke: #e4e4e4; }
article.item { border-bottom: 1px solid #eee; padding: .6rem 0; break-inside: avoid; }
ul.watches { list-style: none; padding: 0; margin: .2rem 0; display: flex; flex-wrap: wrap; gap: .3rem; }
ul.watches li { background: #eef3fb; border-radius: 1rem; padding: 0 .6rem; font-size: .85rem; }
.snippet { margin: .3rem 0; }
mark { background: #ffe58a; color: inherit; padding: 0 .1em; border-radius: 2px; }
a { color: #0b57d0; }
.empty { color: #555; font-style: italic; }
@media (max-width: 40rem) { body { padding: .6rem; font-size: 15px; } }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; } a { color: inherit; text-decoration: none; }
  mark { background: none; font-weight: bold; text-decoration: underline; }
  h2 { break-after: avoid; }
}
""" % {"fonts": FONTS}


def render(report: Report) -> str:
    return "".join(stream(report))


def stream(report: Report) -> Iterator[str]:
    """The page in chunks, an item at a time: a report of 100,000 items is written as it is rendered instead of
    being held whole in memory. Every feed-supplied text is in an element with dir="auto" (or a <bdi>), so an
    English title keeps its final period at its end inside the right-to-left page."""
    e = escape
    title = report.title or "گزارش خبرهای علامت‌خورده"
    out = ['<!DOCTYPE html>\n<html dir="rtl" lang="fa">\n<head>\n<meta charset="utf-8">\n',
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n',
           '<meta name="referrer" content="no-referrer">\n',
           '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
           f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
           f'<header>\n<h1>{e(title)}</h1>\n']
    period = period_text(report, words=True)
    # Each part isolated: between "۰۰:۰۰" and "۶" the separator is neutral, and the count jumped before the time.
    out.append(f'<p class="period">{"<bdi>" + e(period) + "</bdi> · " if period else ""}'
               f'<bdi>{e(persian_digits(str(len(report.items))))} خبر علامت‌خورده</bdi></p>\n</header>\n')
    out.append(_summary(report))
    out.append("<main>\n")
    if not report.items:
        out.append('<p class="empty">در این بازه خبری با موارد پایش یافت نشد.</p>\n')
    yield "".join(out)
    for heading, items in report.groups:
        if heading:
            yield f'<section>\n<h2><bdi>{e(heading)}</bdi> ({e(persian_digits(str(len(items))))})</h2>\n'
        batch: list[str] = []
        for it in items:  # a list, or items read from the store as they are written (view.StreamedItems)
            batch.append(_item(it))
            if len(batch) == 200:
                yield "".join(batch)
                batch = []
        yield "".join(batch)
        if heading:
            yield "</section>\n"
    yield (f'</main>\n<footer><p>ساخته‌شده در <time datetime="{e(report.generated.isoformat())}">'
               f"{e(jalali_words(report.generated))}</time> به وقت تهران</p></footer>\n</body>\n</html>\n")


def _summary(report: Report) -> str:
    if not report.watch_counts:
        return ""
    e = escape
    rows = []
    for index, (watch, items, mentions) in enumerate(report.watch_counts):
        rows.append(f'<tr><td><span class="swatch" style="background:{chart.colour(index)}"></span>'
                    f'<bdi>{e(watch)}</bdi></td><td class="n">{persian_digits(str(items))}</td>'
                    f'<td class="n">{persian_digits(str(mentions))}</td></tr>')
    series = [(w, report.per_day.get(w, {})) for w, _, _ in report.watch_counts]
    return ('<section class="summary">\n<h2>شمار به تفکیک مورد پایش</h2>\n<table class="counts">'
            "<thead><tr><th>مورد پایش</th><th>خبرها</th><th>اشاره‌ها</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>\n"
            + '<figure><figcaption class="meta">اشاره‌ها در هر روز</figcaption>'
            + chart.svg(report.days, series) + "</figure>\n</section>\n")


def _item(it: ItemView) -> str:
    e = escape
    title = e(it.title)
    heading = (f'<a href="{e(it.link, quote=True)}" rel="noopener noreferrer nofollow">{title}</a>'
               if it.link else title)
    when = ""
    if it.when:
        when = (f' · <time datetime="{e(it.when.isoformat())}">{e(jalali_words(it.when))}</time>'
                f' <span dir="ltr">({e(it.gregorian)})</span>')
    watches = "".join(f"<li><bdi>{e(m.watch)}</bdi> ×{persian_digits(str(m.count))}</li>" for m in it.matches)
    snippets = "".join(f'<p class="snippet" dir="auto">{marked_html(s)}</p>' for s in it.snippets)
    return (f'<article class="item" id="item-{it.id}">\n<h3 dir="auto">{heading}</h3>\n'
            f'<p class="meta"><bdi class="feed">{e(it.feed)}</bdi>{when}{_carried(it)}</p>\n'
            f'<ul class="watches">{watches}</ul>\n{snippets}\n</article>\n')


def _carried(it: ItemView) -> str:
    """" · در ۳ منبع" with the English as its tooltip: how many feeds carried the item's story."""
    if not it.carried_by:
        return ""
    return (f' · <span class="carried" title="{escape(it.carried, quote=True)}">'
            f"در {persian_digits(str(it.carried_by))} منبع</span>")


def marked_html(segments: list[Segment]) -> str:
    return "".join(f"<mark>{escape(s.text)}</mark>" if s.marked else escape(s.text) for s in segments)
