"""Build content/guides/website-checklist.pdf, Kettu Studio's free guide.

"The small business website checklist": 25 checks in five sections (Speed,
Findability, Accessibility, Trust & privacy, Conversion), a few pages long.

Written for fpdf2 2.8.9. Only the PDF core font Helvetica is used, so no font
files are needed; every string must therefore be latin-1 safe (no curly quotes,
em dashes or euro signs: write "EUR"). The cover draws the fox logo from
content/images/kettu.svg.

To rebuild the PDF, from the repository root:

    python3 -m venv /tmp/pdfvenv
    /tmp/pdfvenv/bin/pip install fpdf2==2.8.9
    /tmp/pdfvenv/bin/python tools/make_guide.py

The output is deterministic (fixed creation date), so rebuilding without
changing the text gives the same file.
"""

import datetime
import pathlib

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "content" / "guides" / "website-checklist.pdf"
LOGO = ROOT / "content" / "images" / "kettu.svg"

TITLE = "The small business website checklist"
AUTHOR = "Kettu Studio"
EDITION = "Edition 1, 2026"

ORANGE = (217, 98, 31)
DARK = (59, 36, 24)
GREY = (90, 80, 74)

INTRO = (
    "These are the 25 things we check first when a small business asks us to "
    "look at their website. Each check is a plain question you can answer "
    "yourself, without knowing any code. Go through the list with your own site "
    "open on a phone, tick what is already fine, and mark what is not. Then "
    "start with the section that has the most marks: that is where your site "
    "loses the most customers."
)

SECTIONS = [
    (
        "1. Speed",
        "A slow page never sends you a complaint. People just leave.",
        [
            (
                "Your front page is readable within three seconds on an ordinary phone, on mobile data.",
                "Test the way your customers browse: not on the office Wi-Fi, but on a phone "
                "in a place with a patchy connection.",
            ),
            (
                "Photos are resized to the size they are shown at, and compressed.",
                "A photo straight from a camera can be several megabytes. Shown at phone "
                "width, it needs about a tenth of that. Export it again, as WebP or a "
                "well-compressed JPEG.",
            ),
            (
                "The page loads nothing from other servers that it does not really need.",
                "Every chat widget, social media feed, map, font service or video embed is "
                "another wait, and tells another company who your visitors are.",
            ),
            (
                "Images further down the page load only when the visitor scrolls near them.",
                'Ask your developer, or add loading="lazy" to those images.',
            ),
            (
                "A typical page weighs less than 1 MB in total.",
                "A free online speed test shows the page weight. Under 1 MB feels quick on "
                "nearly any phone; many good small business pages manage under half of that.",
            ),
        ],
    ),
    (
        "2. Findability",
        "Being found by people nearby is mostly about being clear and consistent.",
        [
            (
                "Your front page says what you do and where, in words, near the top.",
                'For example: "Physiotherapy in Kaleva, Tampere: sports injuries and back '
                'pain." Use the words your customers would type, not industry jargon.',
            ),
            (
                "Every page has its own title and a short description.",
                "These are what search results show. A page called 'Home' or 'Services' "
                "tells nobody anything.",
            ),
            (
                "Each main service has a page of its own.",
                "A page about one thing can answer one search well. A long list of twelve "
                "services answers none of them properly.",
            ),
            (
                "Your name, address and phone number are exactly the same everywhere online.",
                "Check your site, your map listing, directories and social media profiles. "
                "Old numbers and differently written addresses create doubt.",
            ),
            (
                "Your map listing is claimed, complete and up to date.",
                "Opening hours (with holiday exceptions), a few real photos, your services "
                "and a link to your site. An out-of-date listing sends people to a closed door.",
            ),
        ],
    ),
    (
        "3. Accessibility",
        "An accessible site is simply a site that works for everyone, on every device.",
        [
            (
                "Text stands out clearly from its background.",
                "Light grey text on white is hard to read for many people, and for everyone "
                "in sunlight. Aim for a contrast ratio of at least 4.5 to 1; free online "
                "contrast checkers tell you in seconds.",
            ),
            (
                "Every form field has a visible label that stays put while you type.",
                "Grey placeholder text inside the field disappears as soon as you start "
                "typing, and screen readers may not read it out.",
            ),
            (
                "You can use the whole site with the keyboard alone, and always see where you are.",
                "Put the mouse away and press Tab. Can you reach every link and button, and "
                "send the contact form?",
            ),
            (
                "Images that carry meaning have alt text; decorative images have empty alt text.",
                "Describe what the image is doing on the page, in one sentence. If the image "
                "contains text, include the text.",
            ),
            (
                "Link text says where the link goes.",
                "'See our prices' works on its own; 'click here' or 'read more' does not, "
                "especially for someone listening to a list of links.",
            ),
        ],
    ),
    (
        "4. Trust & privacy",
        "Visitors judge you by details: old information costs more trust than an old design.",
        [
            (
                "Opening hours, prices and contact details are correct today.",
                "If prices vary, give a range and say what it depends on. A missing price "
                "makes people assume the worst.",
            ),
            (
                "Nothing on the site is out of date.",
                "Staff who have left, services you no longer offer, a news section last "
                "updated years ago: remove it or update it.",
            ),
            (
                "Every page is served over HTTPS, and the certificate renews by itself.",
                "Browsers warn visitors away from pages without it. Ask your host if you "
                "are not sure.",
            ),
            (
                "You know every tracker and outside service your site loads, and why.",
                "Remove the analytics tool nobody looks at and the advertising pixel from a "
                "campaign long finished. Fewer trackers can mean no cookie banner at all.",
            ),
            (
                "Your privacy page describes what you actually collect, in plain words.",
                "What you record, why, where it is kept, for how long, and how a person can "
                "see or erase their data.",
            ),
        ],
    ),
    (
        "5. Conversion",
        "Every page should make the next step obvious: book, call, buy or ask.",
        [
            (
                "The most important action is one or two taps away on every page.",
                "Try it on a phone. If the booking button hides behind the menu icon, many "
                "visitors will never find it.",
            ),
            (
                "Phone numbers and email addresses can be tapped on a phone.",
                "Nobody wants to copy a number by hand. Make them proper links.",
            ),
            (
                "Forms ask only for what you really need.",
                "Every extra field loses some people, and every piece of data you store is "
                "something you have to protect. Mark optional fields as optional.",
            ),
            (
                "After sending a form, the visitor sees what happens next.",
                "'Thanks, we will reply within two working days' is better than a blank page "
                "or a silent reload.",
            ),
            (
                "You know which pages bring you enquiries.",
                "Look at your visitor statistics once a month: which pages people arrive on, "
                "and which ones lead to a booking or a message.",
            ),
        ],
    ),
]

NEXT_STEPS = [
    "Pick the three unticked items that matter most to your customers, and fix those first.",
    "Ask someone who has never seen your site to book, call or buy on their phone, "
    "while you watch without helping.",
    "Come back to this list in six months. Websites drift out of date quietly.",
]

CHECKUP = (
    "If you would like a second pair of eyes, book a website check-up with us: a "
    "two-hour review of your site, done together with you, on a computer and on a "
    "phone. Afterwards you get a written, prioritised list of fixes you can do "
    "yourself or with anyone you like. The check-up costs 290 EUR (VAT included)."
)


class Guide(FPDF):
    def footer(self):
        if self.page_no() == 1:
            return
        self.set_y(-14)
        self.set_font("Helvetica", size=8)
        self.set_text_color(*GREY)
        self.cell(0, 6, f"Kettu Studio  |  {TITLE}", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 6, f"Page {self.page_no()} of {{nb}}", align="R")


def heading(pdf, text, note):
    if pdf.will_page_break(34):
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_text_color(*ORANGE)
    pdf.cell(0, 9, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "I", 10)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 5, note, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def item(pdf, number, question, why):
    box = 5
    indent = 10
    width = pdf.epw - indent
    pdf.set_font("Helvetica", "B", 11)
    h_q = pdf.multi_cell(
        width, 5.5, question, align="L", dry_run=True, output=MethodReturnValue.HEIGHT
    )
    pdf.set_font("Helvetica", size=10)
    h_w = pdf.multi_cell(
        width, 5, why, align="L", dry_run=True, output=MethodReturnValue.HEIGHT
    )
    if pdf.will_page_break(h_q + h_w + 4):
        pdf.add_page()
    x, y = pdf.l_margin, pdf.get_y()
    pdf.set_draw_color(*DARK)
    pdf.set_line_width(0.4)
    pdf.rect(x, y + 0.5, box, box)
    pdf.set_xy(x + indent, y)
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_text_color(*DARK)
    pdf.multi_cell(
        width, 5.5, f"{number}. {question}", align="L", new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.set_font("Helvetica", size=10)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(width, 5, why, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3.5)


def build():
    pdf = Guide(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(TITLE)
    pdf.set_author(AUTHOR)
    pdf.set_subject("25 checks for a small business website")
    pdf.set_keywords(
        "website checklist speed findability accessibility privacy conversion"
    )
    pdf.set_creator("tools/make_guide.py (fpdf2)")
    pdf.set_creation_date(datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC))
    pdf.set_lang("en")

    # Cover page.
    pdf.add_page()
    pdf.set_fill_color(253, 243, 231)
    pdf.rect(0, 0, pdf.w, 120, style="F")
    pdf.image(str(LOGO), x=pdf.w / 2 - 25, y=18, w=50, h=50)
    pdf.set_y(76)
    pdf.set_font("Helvetica", "B", 24)
    pdf.set_text_color(*DARK)
    pdf.multi_cell(0, 11, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=12)
    pdf.set_text_color(*ORANGE)
    pdf.cell(
        0,
        8,
        "25 checks you can do yourself, in an afternoon",
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_y(132)
    pdf.set_font("Helvetica", "B", 13)
    pdf.set_text_color(*DARK)
    pdf.cell(0, 8, "How to use this checklist", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=11)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 6, INTRO, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 13)
    pdf.set_text_color(*DARK)
    pdf.cell(0, 8, "The five sections", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=11)
    pdf.set_text_color(*GREY)
    for title, note, _ in SECTIONS:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(42, 6.5, title)
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6.5, note, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(-40)
    pdf.set_font("Helvetica", size=10)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(
        0,
        5,
        f"By Kettu Studio, Tampere, Finland. Aino Virtanen and Jari Koskinen.\n"
        f"{EDITION}. kettu.example  |  hello@kettu.example",
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    # The checklist.
    pdf.add_page()
    number = 0
    for title, note, items in SECTIONS:
        heading(pdf, title, note)
        for question, why in items:
            number += 1
            item(pdf, number, question, why)

    # What next.
    heading(
        pdf, "What next?", "A checklist only helps if something changes afterwards."
    )
    pdf.set_font("Helvetica", size=11)
    pdf.set_text_color(*DARK)
    for step in NEXT_STEPS:
        pdf.cell(6, 6, "-")
        pdf.multi_cell(0, 6, step, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 6, CHECKUP, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_text_color(*ORANGE)
    pdf.cell(
        0,
        6,
        "Write to hello@kettu.example  |  kettu.example",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(OUT))
    print(
        f"wrote {OUT} ({OUT.stat().st_size} bytes, {pdf.pages_count} pages, {number} checks)"
    )


if __name__ == "__main__":
    build()
