"""
Demo articles, written in plain language with no medical claims. References point only to public
health information pages (NHS, US National Institutes of Health, MedlinePlus); no study is cited.
Like the rest of the demo loader, each function creates what is missing and leaves the rest alone.
"""

import datetime
import json

from wagtail.models import Page

from bookings.demo import TYPES
from bookings.models import ConsultationType

from .models import ArticleIndexPage, ArticlePage, Author, RelatedArticle, Topic

TOPICS = [
    ("Autoimmune conditions", "autoimmune", "How the immune system can turn on the body, and living well with it."),
    ("Gut health", "gut-health", "Digestion, the gut lining and the microbes that live in the gut."),
    ("Everyday wellbeing", "wellbeing", "Sleep, stress, movement and the habits that support them."),
    ("Nutrition", "nutrition", "Food, fibre and building meals that suit you."),
]


def h2(text):
    return {"type": "heading", "value": {"text": text, "level": "h2"}}


def h3(text):
    return {"type": "heading", "value": {"text": text, "level": "h3"}}


def p(*paragraphs):
    return {"type": "paragraph", "value": "".join(f"<p>{text}</p>" for text in paragraphs)}


def bullets(*items):
    return {"type": "paragraph", "value": "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"}


def takeaways(*items):
    return {
        "type": "callout",
        "value": {
            "style": "takeaways",
            "title": "Key takeaways",
            "body": "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>",
        },
    }


def important(text):
    return {"type": "callout", "value": {"style": "important", "title": "When to get help", "body": f"<p>{text}</p>"}}


def invitation(text, consultation_type=None):
    """A call to action; `consultation_type` is the slug of a demo type, stored as its id (see `with_type_ids`)."""
    return {
        "type": "book_consultation",
        "value": {
            "heading": "Would you like to talk this through?",
            "text": text,
            "consultation_type": consultation_type,
            "button_label": "Book a consultation",
        },
    }


def consultation_type_id(slug):
    """The id of the demo consultation type `slug`, made here when the booking demo has not run yet."""
    defaults = next(data for data in TYPES if data["slug"] == slug)
    return ConsultationType.objects.get_or_create(slug=slug, defaults=defaults)[0].pk


def with_type_ids(body):
    """The body with each call to action's consultation type slug replaced by the type's id."""
    return [
        {
            **block,
            "value": {**block["value"], "consultation_type": consultation_type_id(block["value"]["consultation_type"])},
        }
        if block["type"] == "book_consultation" and block["value"]["consultation_type"]
        else block
        for block in body
    ]


def reference(text, url):
    return {"type": "reference", "value": {"text": text, "url": url, "doi": "", "accessed": None}}


NIAMS_ALOPECIA = reference(
    "National Institute of Arthritis and Musculoskeletal and Skin Diseases (NIH). Alopecia Areata.",
    "https://www.niams.nih.gov/health-topics/alopecia-areata",
)
NHS_HAIR_LOSS = reference("NHS. Hair loss.", "https://www.nhs.uk/conditions/hair-loss/")
MEDLINE_AUTOIMMUNE = reference("MedlinePlus. Autoimmune Diseases.", "https://medlineplus.gov/autoimmunediseases.html")
NIEHS_AUTOIMMUNE = reference(
    "National Institute of Environmental Health Sciences (NIH). Autoimmune Diseases.",
    "https://www.niehs.nih.gov/health/topics/conditions/autoimmune",
)
NCCIH_PROBIOTICS = reference(
    "National Center for Complementary and Integrative Health (NIH). Probiotics: Usefulness and Safety.",
    "https://www.nccih.nih.gov/health/probiotics-usefulness-and-safety",
)
NHS_PROBIOTICS = reference("NHS. Probiotics.", "https://www.nhs.uk/conditions/probiotics/")
MEDLINE_FIBER = reference("MedlinePlus. Dietary Fiber.", "https://medlineplus.gov/dietaryfiber.html")
NHS_COELIAC = reference("NHS. Coeliac disease.", "https://www.nhs.uk/conditions/coeliac-disease/")
NIDDK_CELIAC = reference(
    "National Institute of Diabetes and Digestive and Kidney Diseases (NIH). Celiac Disease.",
    "https://www.niddk.nih.gov/health-information/digestive-diseases/celiac-disease",
)
MEDLINE_STRESS = reference("MedlinePlus. Stress.", "https://medlineplus.gov/stress.html")
MEDLINE_SLEEP = reference("MedlinePlus. Healthy Sleep.", "https://medlineplus.gov/healthysleep.html")
NHS_IBS = reference(
    "NHS. Irritable bowel syndrome (IBS).", "https://www.nhs.uk/conditions/irritable-bowel-syndrome-ibs/"
)
NIDDK_IBS = reference(
    "National Institute of Diabetes and Digestive and Kidney Diseases (NIH). Irritable Bowel Syndrome.",
    "https://www.niddk.nih.gov/health-information/digestive-diseases/irritable-bowel-syndrome",
)
NIDDK_HASHIMOTO = reference(
    "National Institute of Diabetes and Digestive and Kidney Diseases (NIH). Hashimoto’s Disease.",
    "https://www.niddk.nih.gov/health-information/endocrine-diseases/hashimotos-disease",
)
NHS_UNDERACTIVE_THYROID = reference(
    "NHS. Underactive thyroid (hypothyroidism).",
    "https://www.nhs.uk/conditions/underactive-thyroid-hypothyroidism/",
)


ARTICLES = [
    {
        "slug": "alopecia-areata-and-leaky-gut",
        "title": "Alopecia areata and a leaky gut: exploring a possible link",
        "summary": (
            "What alopecia areata and “leaky gut” are, why some researchers wonder whether they are "
            "connected, and gentle, practical ways to look after both."
        ),
        "topics": ["autoimmune", "gut-health"],
        "tags": ["alopecia", "gut permeability", "microbiome", "inflammation"],
        "date": datetime.date(2026, 9, 14),
        "reviewed": datetime.date(2026, 10, 1),
        "seed": 11,
        "palette": "sage",
        "alt": "Abstract illustration in soft greens and creams",
        "body": [
            p(
                "Losing hair in patches can be upsetting, and many people who live with alopecia areata "
                "also notice changes in their digestion. This article explains both conditions in plain "
                "words and looks at the questions researchers are asking about how they might relate."
            ),
            h2("What is alopecia areata?"),
            p(
                "Alopecia areata is an autoimmune condition: the immune system, which normally protects "
                "the body, acts against the hair follicles. Hair usually falls out in small, round patches "
                "on the scalp, and sometimes elsewhere. It does not damage the follicles permanently, and "
                "hair often grows back, although the condition can come and go."
            ),
            h2("What do people mean by a “leaky gut”?"),
            p(
                "The lining of the gut lets nutrients through while keeping most other things out. "
                "“Leaky gut” is an informal name for increased intestinal permeability, when that lining "
                "lets more through than usual. Doctors do not treat leaky gut as a diagnosis on its own, "
                "and research into what it means for health is still going on."
            ),
            h2("How might the two be linked?"),
            p(
                "Scientists are exploring several ideas. None of them is proven, and they are best read as "
                "questions rather than answers."
            ),
            h3("Inflammation throughout the body"),
            p(
                "If more substances cross the gut lining, the immune system may be kept busier than usual. "
                "Some researchers wonder whether this background inflammation could play a part in "
                "autoimmune conditions."
            ),
            h3("The balance of gut microbes"),
            p(
                "The gut is home to a large community of microbes, often called the microbiome. Its "
                "balance seems to influence how the immune system behaves, which is one reason it is "
                "studied in many autoimmune conditions."
            ),
            h3("Absorbing nutrients"),
            p(
                "Hair growth depends on a steady supply of nutrients such as iron, zinc and protein. A gut "
                "that is not absorbing food well could, in theory, leave less available for hair."
            ),
            h2("Signs worth noticing"),
            bullets(
                "Round or oval patches of hair loss, sometimes with short broken hairs at the edges.",
                "Nail changes, such as small dents or ridges.",
                "Ongoing bloating, wind, changes in bowel habit or tummy discomfort.",
                "Tiredness that does not improve with rest.",
            ),
            important(
                "See your GP if you notice new hair loss, blood in your stools, weight loss you cannot "
                "explain, or a change in bowel habit that lasts more than a few weeks."
            ),
            h2("Looking after both"),
            bullets(
                "<b>Varied, whole foods.</b> Plenty of vegetables, fruit, pulses and whole grains give the "
                "gut fibre and the body a range of nutrients.",
                "<b>Probiotics and prebiotics.</b> Fermented foods and fibre-rich foods feed helpful microbes; "
                "ask a professional before starting supplements.",
                "<b>Stress.</b> Stress can affect both the gut and hair. Regular, simple habits such as walks, "
                "breathing exercises and enough sleep can help many people feel steadier.",
                "<b>Professional guidance.</b> A GP or dermatologist can confirm the diagnosis and discuss "
                "treatment; an integrative practitioner can help with daily habits alongside that care.",
            ),
            takeaways(
                "Alopecia areata is an autoimmune condition; hair often regrows.",
                "A link with gut permeability is being researched but is not proven.",
                "Steady, everyday habits support overall health while you work with your doctor.",
            ),
            invitation(
                "If you recognise yourself in this article, a first conversation is a chance to talk through "
                "what you are noticing and what might help alongside your medical care.",
                "discovery-call",
            ),
        ],
        "references": [NIAMS_ALOPECIA, NHS_HAIR_LOSS, MEDLINE_AUTOIMMUNE, NCCIH_PROBIOTICS],
        "note": "<p>Hair loss has many causes. This article does not replace an assessment by your doctor.</p>",
    },
    {
        "slug": "what-is-an-autoimmune-condition",
        "title": "What is an autoimmune condition? A plain-language guide",
        "summary": "How the immune system works, what goes differently in autoimmune conditions, and where to find reliable help.",
        "topics": ["autoimmune"],
        "tags": ["immune system", "basics"],
        "date": datetime.date(2026, 3, 2),
        "reviewed": datetime.date(2026, 8, 20),
        "seed": 12,
        "palette": "sea",
        "alt": "Abstract illustration in soft blues",
        "body": [
            p(
                "Your immune system protects you from germs. In an autoimmune condition, it mistakes part of "
                "your own body for something harmful and acts against it."
            ),
            h2("How the immune system usually works"),
            p(
                "White blood cells and the antibodies they make recognise invaders such as bacteria and "
                "viruses. Normally they learn to leave the body’s own tissues alone."
            ),
            h2("What changes in autoimmune conditions"),
            p(
                "In autoimmune conditions that tolerance breaks down. Which part of the body is affected "
                "depends on the condition: the thyroid, the joints, the skin, the gut lining or many others."
            ),
            h2("Common examples"),
            bullets(
                "Coeliac disease, which affects the small intestine.",
                "Hashimoto’s disease, which affects the thyroid.",
                "Rheumatoid arthritis, which affects the joints.",
                "Alopecia areata, which affects hair follicles.",
            ),
            h2("Getting support"),
            p(
                "Autoimmune conditions are diagnosed and treated by doctors. Many people also find it helps "
                "to work on sleep, food, movement and stress, and to have someone to talk these through with."
            ),
            takeaways(
                "Autoimmune conditions happen when the immune system acts against the body.",
                "They can affect almost any part of the body.",
                "Diagnosis and treatment come from your doctor.",
            ),
            invitation("A consultation can help you make sense of your diagnosis and plan small, realistic steps."),
        ],
        "references": [MEDLINE_AUTOIMMUNE, NIEHS_AUTOIMMUNE],
        "note": "",
    },
    {
        "slug": "probiotics-and-prebiotics-explained",
        "title": "Probiotics and prebiotics: what the words mean",
        "summary": "The difference between probiotics and prebiotics, where they are found in food, and questions to ask before buying supplements.",
        "topics": ["gut-health", "nutrition"],
        "tags": ["probiotics", "prebiotics", "microbiome", "fibre"],
        "date": datetime.date(2026, 5, 11),
        "reviewed": datetime.date(2026, 9, 2),
        "seed": 13,
        "palette": "meadow",
        "alt": "Abstract illustration in greens and yellows",
        "body": [
            p("Both words appear on many food labels. They are related but not the same."),
            h2("Probiotics"),
            p(
                "Probiotics are live microbes, such as certain bacteria and yeasts, that are meant to have a "
                "benefit when eaten. They are found in some yoghurts, kefir and other fermented foods, and "
                "are sold as supplements."
            ),
            h2("Prebiotics"),
            p(
                "Prebiotics are types of fibre that feed the microbes already living in the gut. Onions, "
                "garlic, leeks, oats, bananas and pulses all contain them."
            ),
            h2("Before you buy a supplement"),
            bullets(
                "Different strains do different things; one product is not the same as another.",
                "Supplements are not checked in the same way as medicines.",
                "If you have a weakened immune system or a serious illness, ask your doctor first.",
            ),
            {
                "type": "quote",
                "value": {
                    "quote": "Start with food you enjoy, and add one change at a time so you can see what suits you.",
                    "attribution": "Naomi",
                },
            },
            takeaways(
                "Probiotics are live microbes; prebiotics are fibre that feeds them.",
                "Food sources are a good place to start.",
                "Talk to a professional before taking supplements.",
            ),
            invitation("We can look at what you eat now and find simple ways to add variety."),
        ],
        "references": [NCCIH_PROBIOTICS, NHS_PROBIOTICS, MEDLINE_FIBER],
        "note": "",
    },
    {
        "slug": "coeliac-disease-basics",
        "title": "Coeliac disease: an autoimmune condition of the gut",
        "summary": "What coeliac disease is, why testing comes before changing your diet, and how people adjust to eating gluten-free.",
        "topics": ["autoimmune", "gut-health"],
        "tags": ["coeliac", "gluten"],
        "date": datetime.date(2026, 6, 22),
        "reviewed": datetime.date(2026, 6, 20),
        "seed": 14,
        "palette": "dawn",
        "alt": "Abstract illustration in warm peach tones",
        "body": [
            p(
                "In coeliac disease, eating gluten, a protein in wheat, barley and rye, makes the immune "
                "system damage the lining of the small intestine."
            ),
            h2("Why testing comes first"),
            p(
                "Blood tests for coeliac disease only work while you are still eating gluten. If you think "
                "gluten upsets you, speak to your GP before cutting it out."
            ),
            h2("Living gluten-free"),
            bullets(
                "Reading labels becomes a habit; gluten hides in sauces, soups and snacks.",
                "Naturally gluten-free foods include rice, potatoes, meat, fish, eggs, fruit and vegetables.",
                "A dietitian can help make sure meals still give you enough fibre and nutrients.",
            ),
            h2("Looking after yourself"),
            p(
                "Adjusting takes time, and eating out or with family can feel hard at first. Support with "
                "planning meals and handling social situations can make a real difference."
            ),
            takeaways(
                "Coeliac disease is an autoimmune reaction to gluten.",
                "Keep eating gluten until you have been tested.",
                "A varied gluten-free diet is possible with some planning.",
            ),
            invitation("If you are adjusting to a new diagnosis, we can plan meals that work for your week."),
        ],
        "references": [NHS_COELIAC, NIDDK_CELIAC],
        "note": "",
    },
    {
        "slug": "stress-sleep-and-your-gut",
        "title": "Stress, sleep and your gut: small habits that may help",
        "summary": "Why stress and poor sleep are often felt in the gut, and small habits many people find steadying.",
        "topics": ["wellbeing", "gut-health"],
        "tags": ["stress", "sleep"],
        "date": datetime.date(2026, 7, 6),
        "reviewed": datetime.date(2026, 7, 1),
        "seed": 15,
        "palette": "sea",
        "alt": "Abstract illustration in calm blues and greens",
        "body": [
            p(
                "Many people notice their stomach reacting when they are anxious or short of sleep. The gut "
                "and the brain are closely connected by nerves and chemical messengers."
            ),
            h2("Habits worth trying"),
            bullets(
                "Keep regular times for going to bed and getting up, even at weekends.",
                "Take a short walk after meals.",
                "Try slow breathing: in for four counts, out for six, for a few minutes.",
                "Notice how caffeine and alcohol affect your sleep and your gut.",
            ),
            h2("When to ask for help"),
            p(
                "If stress or low mood is affecting your daily life, talk to your GP. Help is available, and "
                "you do not need to manage it alone."
            ),
            takeaways(
                "Stress and sleep can both affect digestion.",
                "Small, regular habits are easier to keep than big changes.",
            ),
            invitation("Together we can find a routine that fits your days."),
        ],
        "references": [MEDLINE_STRESS, MEDLINE_SLEEP],
        "note": "",
    },
    {
        "slug": "meals-for-a-sensitive-gut",
        "title": "Eating for comfort: building meals when your gut is sensitive",
        "summary": "A practical way to notice which foods suit you, keep a food and symptom diary, and build calm, balanced meals.",
        "topics": ["nutrition", "gut-health"],
        "tags": ["fibre", "IBS", "food diary"],
        "date": datetime.date(2026, 8, 3),
        "reviewed": datetime.date(2026, 8, 1),
        "seed": 16,
        "palette": "meadow",
        "alt": "Abstract illustration in fresh greens",
        "body": [
            p(
                "When your gut is sensitive, meals can start to feel like a puzzle. A calm, step-by-step "
                "approach helps you learn what suits you without cutting out more than you need to."
            ),
            h2("Keep a food and symptom diary"),
            p(
                "For two weeks, note what you eat, when, and how you feel afterwards, along with sleep and "
                "stress. Patterns are often easier to see on paper."
            ),
            h2("Build a comfortable plate"),
            bullets(
                "A portion of protein, such as eggs, fish, tofu or chicken.",
                "Cooked vegetables, which many people find easier than large raw salads.",
                "A starchy food you tolerate, such as rice, potatoes or oats.",
                "Water through the day, and fibre increased slowly rather than all at once.",
            ),
            h2("Avoid cutting out too much"),
            p(
                "Removing many foods at once can make it hard to get enough nutrients. If you think you need "
                "to avoid a food group, ask your GP or a dietitian first."
            ),
            takeaways(
                "A diary helps you spot patterns.",
                "Change one thing at a time.",
                "Get advice before cutting out whole food groups.",
            ),
            invitation("We can go through your diary together and plan gentle next steps.", "initial-consultation"),
        ],
        "references": [NHS_IBS, NIDDK_IBS, MEDLINE_FIBER],
        "note": "",
    },
    {
        "slug": "hashimotos-questions-for-your-doctor",
        "title": "Hashimoto’s disease: questions to take to your doctor",
        "summary": "A short guide to Hashimoto’s disease and a list of questions that can help you get the most from appointments.",
        "topics": ["autoimmune"],
        "tags": ["thyroid", "immune system"],
        "date": datetime.date(2026, 10, 5),
        "reviewed": datetime.date(2026, 10, 5),
        "seed": 17,
        "palette": "dawn",
        "alt": "Abstract illustration in soft coral tones",
        "body": [
            p(
                "Hashimoto’s disease is an autoimmune condition in which the immune system affects the "
                "thyroid, a gland in the neck that helps control how the body uses energy. Over time it can "
                "lead to an underactive thyroid."
            ),
            h2("Questions you might ask"),
            bullets(
                "Which blood tests have I had, and what do the results mean?",
                "How often should my thyroid be checked?",
                "How and when should I take my medicine?",
                "What symptoms should make me get in touch sooner?",
            ),
            h2("Between appointments"),
            p(
                "Writing down how you feel each week, and any questions as they come up, can make "
                "appointments less rushed and more useful."
            ),
            takeaways(
                "Hashimoto’s disease affects the thyroid.",
                "Preparing questions helps you make the most of appointments.",
            ),
            invitation("A consultation can help you prepare for appointments and build steady daily habits."),
        ],
        "references": [NIDDK_HASHIMOTO, NHS_UNDERACTIVE_THYROID],
        "note": "",
    },
]


def ensure_topics():
    topics = {}
    for name, slug, description in TOPICS:
        topic, _ = Topic.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
        topics[slug] = topic
    return topics


def ensure_authors(*, about_page, image_for):
    naomi = Author.objects.filter(name="Naomi").first()
    if naomi is None:
        naomi = Author.objects.create(
            name="Naomi",
            credentials="",
            job_title="Autoimmune Specialist, Integrative Health Expert",
            bio=(
                "Naomi founded this practice to help people living with autoimmune and gut conditions "
                "build habits that fit their lives, alongside the care of their own doctors."
            ),
            photo=image_for(seed=2, palette="dawn", title="Demo: warm abstract shapes"),
            about_page=about_page,
        )
    reviewer = Author.objects.filter(name="Alex Morgan").first()
    if reviewer is None:
        reviewer = Author.objects.create(
            name="Alex Morgan",
            credentials="",
            job_title="Medical reviewer (demo profile)",
            bio=(
                "A demo profile. On a real site this is the qualified professional who checks each article "
                "for accuracy before it is published and at each review."
            ),
        )
    return naomi, reviewer


def ensure_index(home):
    index = ArticleIndexPage.objects.child_of(home).first()
    if index is not None:
        return index
    index = ArticleIndexPage(
        title="Articles",
        slug="articles",
        show_in_menus=True,
        introduction=(
            "Plain-language articles on autoimmune conditions and gut health. They are for general "
            "education and never replace advice from your own doctor."
        ),
    )
    home.add_child(instance=index)
    index.save_revision().publish()
    return index


def load_articles(home: Page, *, about_page: Page, image_for):
    topics = ensure_topics()
    index = ensure_index(home)
    naomi, reviewer = ensure_authors(about_page=about_page, image_for=image_for)
    existing = set(ArticlePage.objects.child_of(index).values_list("slug", flat=True))
    for data in ARTICLES:
        if data["slug"] in existing:
            continue
        article = ArticlePage(
            title=data["title"],
            slug=data["slug"],
            summary=data["summary"],
            hero_image=image_for(seed=data["seed"], palette=data["palette"], title=f"Demo: {data['alt'].lower()}"),
            hero_image_alt=data["alt"],
            body=json.dumps(with_type_ids(data["body"])),
            references=json.dumps(data["references"]),
            article_note=data["note"],
            display_date=data["date"],
            last_reviewed=data["reviewed"],
            reviewed_by=reviewer,
        )
        index.add_child(instance=article)
        article.authors.set([naomi])
        article.topics.set([topics[slug] for slug in data["topics"]])
        article.tags.set(data["tags"])
        article.save_revision().publish()
    _link_related(index)
    return index


def _link_related(index):
    """Hand-pick one related article for the alopecia article, as an editor would."""
    alopecia = ArticlePage.objects.child_of(index).filter(slug="alopecia-areata-and-leaky-gut").first()
    probiotics = ArticlePage.objects.child_of(index).filter(slug="probiotics-and-prebiotics-explained").first()
    if alopecia and probiotics and not alopecia.related_links.exists():
        alopecia.related_links.add(RelatedArticle(article=probiotics))
        alopecia.save_revision().publish()
