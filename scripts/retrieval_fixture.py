"""Write the retrieval fixture: 200 short documents of a made-up coffee company and 50 questions,
each with the document that answers it. Written for this project (templates over hand-made facts,
seeded, so the output is the same every time); the files it writes are committed.

    python scripts/retrieval_fixture.py tests/fixtures/retrieval
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import yaml

CITIES = [
    ("Porto", "Rua das Flores 12"),
    ("Lisbon", "Avenida da Liberdade 210"),
    ("Madrid", "Calle Mayor 44"),
    ("Seville", "Calle Sierpes 8"),
    ("Valencia", "Carrer de Colon 19"),
    ("Lyon", "Rue Merciere 5"),
    ("Bordeaux", "Cours de l'Intendance 31"),
    ("Ghent", "Korenmarkt 3"),
    ("Utrecht", "Oudegracht 150"),
    ("Leipzig", "Petersstrasse 22"),
    ("Graz", "Herrengasse 9"),
    ("Ljubljana", "Copova ulica 6"),
    ("Krakow", "ulica Florianska 27"),
    ("Brno", "Masarykova 14"),
    ("Tallinn", "Viru 4"),
    ("Bergen", "Torgallmenningen 2"),
    ("Aarhus", "Strøget 60"),
    ("Malmo", "Södergatan 11"),
    ("Cork", "Oliver Plunkett Street 70"),
    ("Galway", "Shop Street 18"),
    ("Bristol", "Park Street 41"),
    ("Edinburgh", "Victoria Street 25"),
    ("Turin", "Via Garibaldi 33"),
    ("Bologna", "Via dell'Indipendenza 7"),
    ("Zagreb", "Ilica 16"),
]
NAMES = [
    "Ana Ribeiro",
    "Tomás Ferreira",
    "Lucía Moreno",
    "Javier Ortega",
    "Carmen Vidal",
    "Élodie Martin",
    "Hugo Bernard",
    "Lotte Peeters",
    "Daan de Vries",
    "Jonas Keller",
    "Miriam Huber",
    "Nika Kovač",
    "Piotr Nowak",
    "Tereza Svobodová",
    "Kaarel Tamm",
    "Ingrid Solberg",
    "Mads Jensen",
    "Elsa Lindqvist",
    "Siobhán Walsh",
    "Cian Byrne",
    "Harriet Cole",
    "Fraser Murray",
    "Giulia Rossi",
    "Marco Bianchi",
    "Ivana Horvat",
]
FEATURES = [
    "a roastery visible from the counter",
    "a children's corner",
    "a rooftop terrace",
    "a quiet reading room",
    "bicycle parking for forty bikes",
    "a brewing school on Tuesdays",
    "a vinyl record bar",
    "a garden courtyard",
    "a meeting room for eight",
    "live jazz on Fridays",
]
ORIGINS = [
    ("Huila", "Colombia"),
    ("Sidamo", "Ethiopia"),
    ("Yirgacheffe", "Ethiopia"),
    ("Nyeri", "Kenya"),
    ("Antigua", "Guatemala"),
    ("Cerrado", "Brazil"),
    ("Tarrazú", "Costa Rica"),
    ("Kona", "Hawaii"),
    ("Aceh", "Sumatra"),
    ("Chiapas", "Mexico"),
    ("Cajamarca", "Peru"),
    ("Marcala", "Honduras"),
    ("Jinotega", "Nicaragua"),
    ("Kirinyaga", "Kenya"),
    ("Nariño", "Colombia"),
]
NOTES = [
    "dark chocolate and cherry",
    "jasmine and bergamot",
    "brown sugar and hazelnut",
    "blackcurrant and lime",
    "milk chocolate and orange peel",
    "caramel and almond",
    "peach and honey",
    "cedar and cocoa",
    "red apple and toffee",
    "plum and molasses",
]
ROASTS = ["light", "medium-light", "medium", "medium-dark", "dark"]
DRINKS = [
    "flat white",
    "cortado",
    "cappuccino",
    "latte",
    "macchiato",
    "mocha",
    "americano",
    "piccolo",
    "affogato",
    "iced latte",
    "cold brew tonic",
    "chai latte",
    "matcha latte",
    "golden milk",
    "espresso tonic",
    "vienna coffee",
    "irish cream latte",
    "honey oat latte",
    "cinnamon cappuccino",
    "hazelnut mocha",
    "maple cold brew",
    "lavender latte",
    "salted caramel latte",
    "coconut flat white",
    "gingerbread latte",
]
MILKS = ["whole milk", "oat milk", "almond milk", "soy milk", "skimmed milk", "coconut milk"]
MACHINES = [
    "Crane Duo 2",
    "Crane Duo 3",
    "Kettle Pro 500",
    "Kettle Pro 700",
    "Heron Grinder G1",
    "Heron Grinder G2",
    "Swift Brewer B4",
    "Swift Brewer B6",
    "Arc Steam S1",
    "Arc Steam S2",
    "Tide Cold Brew Tower",
    "Ember Roaster R10",
    "Ember Roaster R20",
    "Nimbus Water Filter",
    "Pulse Milk Frother",
    "Atlas Dishwasher D3",
    "Vega Ice Maker",
    "Orion Scale",
    "Lumen Display Fridge",
    "Stratus Oven",
    "Harbor Blender",
    "Quill POS Terminal",
    "Cinder Toaster",
    "Drift Kettle K2",
    "Beacon Hot Water Tower",
]
POLICIES = [
    ("Parental leave", "staff get {n} weeks of parental leave at full pay after six months of service"),
    ("Overtime", "overtime is paid at {n} percent of the hourly rate after 40 hours a week"),
    ("Uniforms", "each barista receives {n} aprons a year and may order more through the store manager"),
    (
        "Sick days",
        "staff have {n} paid sick days a year; a doctor's note is needed after three days in a row",
    ),
    ("Staff drinks", "staff may have {n} free drinks per shift, but not to take away for friends"),
    ("Shift swaps", "shift swaps must be agreed at least {n} hours before the shift starts"),
    ("Holidays", "full-time staff have {n} days of paid holiday a year, plus public holidays"),
    ("Training budget", "every employee has a training budget of {n} euros a year for courses"),
    ("Bike to work", "staff who cycle to work receive {n} euros a month towards bicycle repairs"),
    ("Night shifts", "night shifts after 22:00 earn an extra {n} percent"),
    ("Probation", "the probation period lasts {n} months for new hires"),
    ("Notice period", "after probation the notice period is {n} weeks for either side"),
    ("Remote work", "office staff may work from home {n} days a week"),
    ("Pension", "the company adds {n} percent of salary to the pension plan"),
    ("Meal allowance", "staff on shifts longer than six hours get a meal allowance of {n} euros"),
    ("Lost property", "lost items are kept for {n} days before they are donated"),
    ("Allergen training", "baristas must renew allergen training every {n} months"),
    ("Cash handling", "tills are counted by two people when they hold more than {n} euros"),
    ("Music licence", "stores may only play music from the licensed playlist, refreshed every {n} weeks"),
    ("Pets in stores", "dogs are welcome on the terrace; inside, at most {n} dogs at a time"),
    ("Volunteering", "staff get {n} paid days a year to volunteer for a charity"),
    ("Referral bonus", "referring a new barista who stays six months earns a bonus of {n} euros"),
    ("Breaks", "a shift of eight hours includes a paid break of {n} minutes"),
    ("First aid", "each store needs at least {n} trained first aiders on the rota"),
    ("Glasses", "the company pays up to {n} euros towards glasses for screen work"),
]
REGIONS = [
    "Northern Portugal",
    "Andalusia",
    "Catalonia",
    "Île-de-France",
    "Flanders",
    "Bavaria",
    "Styria",
    "Silesia",
    "Moravia",
    "Harju County",
    "Vestland",
    "Jutland",
    "Skåne",
    "Munster",
    "Connacht",
    "South West England",
    "Scottish Lowlands",
    "Piedmont",
    "Emilia-Romagna",
    "Slavonia",
    "Brittany",
    "Tuscany",
    "Lombardy",
    "Saxony",
    "Zealand",
]
CARRIERS = ["RapidPost", "GreenVan", "CityCourier", "ParcelLine", "NorthFreight"]
LOYALTY = [
    ("Stamp card", "the tenth coffee is free after nine stamps"),
    ("Birthday reward", "members get a free pastry in the week of their birthday"),
    ("Refill discount", "bringing your own cup takes {n} cents off any drink"),
    ("Student discount", "students with a valid card get {n} percent off before noon"),
    ("Gold tier", "members who spend {n} euros in a year reach the gold tier with free oat milk"),
    ("Referral points", "inviting a friend earns {n} points when they make their first purchase"),
    ("Points expiry", "loyalty points expire after {n} months without a purchase"),
    ("Happy hour", "iced drinks are two for one between 15:00 and 16:00 on {n} days a week"),
    ("Bean subscription", "subscribers get a {n} percent discount on every bag of beans"),
    ("Gift cards", "gift cards are valid for {n} years and can be topped up online"),
    ("Corporate accounts", "companies ordering more than {n} drinks a week get monthly invoicing"),
    ("Family offer", "children's hot chocolate is free with {n} adult drinks on Sundays"),
    ("App-only deals", "the app shows a new deal every {n} days"),
    ("Points for reviews", "writing a review earns {n} points once per month"),
    ("Early bird", "drinks ordered before 7:30 cost {n} percent less"),
    ("Recycling reward", "returning {n} used coffee bags earns a free espresso"),
    ("Tasting events", "gold members may bring {n} guests to cupping evenings"),
    ("Points for beans", "every euro spent on beans earns {n} points"),
    ("Delivery perks", "members get free delivery above {n} euros"),
    ("Anniversary gift", "after {n} years of membership members receive an engraved mug"),
]
SUPPLIES = [
    "oat milk",
    "paper cups",
    "compostable lids",
    "croissants",
    "sourdough bread",
    "chocolate powder",
    "vanilla syrup",
    "caramel syrup",
    "chai concentrate",
    "matcha powder",
    "napkins",
    "cleaning tablets",
    "descaling solution",
    "filter papers",
    "ice",
    "sugar sachets",
    "honey",
    "cinnamon",
    "almond milk",
    "soy milk",
    "cake boxes",
    "coffee bags",
    "labels",
    "aprons",
    "water filters",
]
SUPPLIER_NAMES = [
    "Meadow Dairy",
    "Northleaf Paper",
    "Verde Packaging",
    "Boulangerie Roux",
    "Crust & Co",
    "Cacao Bros",
    "Sirop House",
    "Golden Pour",
    "Spice Route",
    "Uji Green",
    "Softfold",
    "CleanLine",
    "ScaleAway",
    "FilterWorks",
    "Glacier Ice",
    "Sweetfield",
    "Hive & Honey",
    "Cassia Imports",
    "Almendra",
    "SoyaNord",
    "BoxCraft",
    "Bagwell",
    "LabelLab",
    "Stitch & Serve",
    "PureFlow",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def documents(rng: random.Random) -> dict[str, str]:
    docs: dict[str, str] = {}
    for i, (city, street) in enumerate(CITIES):
        open_, wopen = rng.choice(["6:30", "7:00", "7:30"]), rng.choice(["8:00", "8:30", "9:00"])
        close = rng.choice(["19:00", "20:00", "21:00"])
        docs[f"stores/{city.lower()}.md"] = (
            f"# The {city} store\n\nOur {city} café is at {street}. It opens at {open_} on weekdays and at {wopen} "
            f"on Saturdays and Sundays, and closes at {close}. The store manager is {NAMES[i]}. It seats "
            f"{rng.randint(20, 90)} guests and has {FEATURES[i % len(FEATURES)]}.\n"
        )
    for i in range(30):
        region, country = ORIGINS[i % len(ORIGINS)]
        lot = ["", " Reserve"][i // len(ORIGINS)]
        roast = ROASTS[i % len(ROASTS)]
        docs[f"beans/{region.lower()}{'-reserve' if lot else ''}.md"] = (
            f"# {region}{lot}\n\nA {roast} roast from the {region} region of {country}. In the cup: "
            f"{NOTES[(i * 3) % len(NOTES)]}. Grown at {rng.randint(12, 22) * 100} metres; "
            f"{'washed' if i % 2 else 'natural'} process. A 250 g bag costs {rng.randint(9, 19)}.{rng.choice(['00', '50'])} euros.\n"
        )
    for i, drink in enumerate(DRINKS):
        shots = 1 + i % 3
        docs[f"recipes/{drink.replace(' ', '-')}.md"] = (
            f"# How we make a {drink}\n\nUse {shots} shot{'s' if shots > 1 else ''} of espresso and "
            f"{rng.choice([120, 150, 180, 240])} ml of {MILKS[i % len(MILKS)]} steamed to "
            f"{rng.choice([55, 60, 65])} °C. Serve in a {rng.choice(['glass', 'ceramic cup', 'tulip cup'])}."
            f"{' Finish with a pinch of cinnamon.' if i % 4 == 0 else ''}\n"
        )
    for i, machine in enumerate(MACHINES):
        code = f"E{10 + i}"
        docs[f"equipment/{machine.lower().replace(' ', '-')}.md"] = (
            f"# {machine}\n\nClean the {machine} every {rng.choice(['day', 'two days', 'week'])} and descale it every "
            f"{rng.choice([2, 4, 6, 8])} weeks with descaling solution. Error {code} on the {machine} means "
            f"{rng.choice(['the water tank is empty', 'the boiler is too hot', 'a filter is blocked', 'the door is open', 'the sensor needs calibrating'])}; "
            f"call the service line if it stays for more than {rng.randint(5, 30)} minutes.\n"
        )
    for topic, rule in POLICIES:
        docs[f"policies/{topic.lower().replace(' ', '-')}.md"] = (
            f"# {topic}\n\nCompany policy: {rule.format(n=rng.choice([2, 3, 4, 6, 8, 10, 12, 15, 20, 25, 30]))}.\n"
        )
    for i, region in enumerate(REGIONS):
        docs[f"delivery/{region.lower().replace(' ', '-').replace('î', 'i').replace('å', 'a')}.md"] = (
            f"# Delivery to {region}\n\nOrders to {region} are shipped by {CARRIERS[i % len(CARRIERS)]} and arrive "
            f"in {rng.randint(1, 5)} working days. Delivery costs {rng.choice(['3.90', '4.50', '5.90', '6.50'])} euros, "
            f"free above {rng.choice([30, 40, 50])} euros. Orders placed before {rng.choice(['11:00', '13:00', '15:00'])} "
            "leave the same day.\n"
        )
    for topic, rule in LOYALTY:
        docs[f"loyalty/{topic.lower().replace(' ', '-')}.md"] = (
            f"# {topic}\n\nLoyalty programme: {rule.format(n=rng.choice([2, 3, 5, 10, 12, 15, 20, 25, 50]))}.\n"
        )
    for i, supply in enumerate(SUPPLIES):
        docs[f"suppliers/{SUPPLIER_NAMES[i].lower().replace(' & ', '-').replace(' ', '-')}.md"] = (
            f"# {SUPPLIER_NAMES[i]}\n\n{SUPPLIER_NAMES[i]} supplies our {supply}. Orders go in every "
            f"{WEEKDAYS[i % 5]} by noon; the minimum order is {rng.choice([10, 20, 50, 100])} units and the "
            f"account contact is {NAMES[(i + 7) % len(NAMES)]}.\n"
        )
    assert len(docs) == 200, len(docs)
    return docs


def questions() -> list[dict[str, object]]:
    """Each question is asked in other words than its document's, and names what it is about."""
    asked = [
        ("What time does the café in Porto open on a Saturday?", "stores/porto.md"),
        ("Who runs the shop on Calle Mayor?", "stores/madrid.md"),
        ("Is there a terrace on the roof of the Seville branch?", "stores/seville.md"),
        ("How many people can sit in the Ghent coffee shop?", "stores/ghent.md"),
        ("Where can I find your Tallinn location?", "stores/tallinn.md"),
        ("When does the Edinburgh café shut in the evening?", "stores/edinburgh.md"),
        ("Does the Krakow store have a place for kids?", "stores/krakow.md"),
        ("Which manager is in charge in Bologna?", "stores/bologna.md"),
        ("What does the Sidamo coffee taste like?", "beans/sidamo.md"),
        ("How much is a bag of the Kona beans?", "beans/kona.md"),
        ("Which of your coffees is grown in Guatemala?", "beans/antigua.md"),
        ("How high up is the Nyeri coffee farmed?", "beans/nyeri.md"),
        ("Is the Cerrado from Brazil a dark or a light roast?", "beans/cerrado.md"),
        ("What processing method is used for the Chiapas lot?", "beans/chiapas.md"),
        ("Tell me about the reserve version of the Huila coffee.", "beans/huila-reserve.md"),
        ("How many espresso shots go into a cortado?", "recipes/cortado.md"),
        ("Which milk do baristas use for the matcha latte?", "recipes/matcha-latte.md"),
        ("At what temperature is the milk for a flat white steamed?", "recipes/flat-white.md"),
        ("What cup is a gingerbread latte served in?", "recipes/gingerbread-latte.md"),
        ("How is the salted caramel latte prepared?", "recipes/salted-caramel-latte.md"),
        ("What's the recipe for an espresso tonic?", "recipes/espresso-tonic.md"),
        ("The Kettle Pro 700 shows an error code; what does it mean?", "equipment/kettle-pro-700.md"),
        ("How often should the Heron Grinder G2 be descaled?", "equipment/heron-grinder-g2.md"),
        ("How do I look after the cold brew tower?", "equipment/tide-cold-brew-tower.md"),
        ("What's wrong when the Ember Roaster R20 displays an error?", "equipment/ember-roaster-r20.md"),
        ("How frequently do we clean the Pulse milk frother?", "equipment/pulse-milk-frother.md"),
        ("What should I do about an error on the Quill till terminal?", "equipment/quill-pos-terminal.md"),
        ("How many weeks off do new parents get?", "policies/parental-leave.md"),
        ("What is the pay rate for extra hours beyond the working week?", "policies/overtime.md"),
        ("How many days can I be ill without losing pay?", "policies/sick-days.md"),
        ("Can I bring my dog into the café?", "policies/pets-in-stores.md"),
        ("How long is the trial period when someone starts?", "policies/probation.md"),
        ("Is there money for courses and learning?", "policies/training-budget.md"),
        ("How much does the company pay into my retirement plan?", "policies/pension.md"),
        ("What happens to things customers leave behind?", "policies/lost-property.md"),
        ("How long do parcels take to reach Bavaria?", "delivery/bavaria.md"),
        ("Which courier delivers to Andalusia?", "delivery/andalusia.md"),
        ("What does shipping to Munster cost?", "delivery/munster.md"),
        ("By what time must I order for same-day dispatch to Tuscany?", "delivery/tuscany.md"),
        ("Do you deliver to Skåne in Sweden?", "delivery/skane.md"),
        ("How does the coffee stamp card work?", "loyalty/stamp-card.md"),
        ("Do I get anything for my birthday as a member?", "loyalty/birthday-reward.md"),
        ("Is there a discount if I bring a reusable cup?", "loyalty/refill-discount.md"),
        ("When do my reward points run out?", "loyalty/points-expiry.md"),
        ("Can students get cheaper coffee?", "loyalty/student-discount.md"),
        ("Who provides our oat milk?", "suppliers/meadow-dairy.md"),
        ("On which day do we order croissants?", "suppliers/boulangerie-roux.md"),
        ("Where do the compostable lids come from?", "suppliers/verde-packaging.md"),
        ("What is the minimum order for matcha powder?", "suppliers/uji-green.md"),
        ("Who is our contact for the water filters supplier?", "suppliers/pureflow.md"),
    ]
    assert len(asked) == 50
    return [{"question": q, "answer": doc} for q, doc in asked]


def main() -> None:
    out = Path(sys.argv[1])
    docs = documents(random.Random(20261203))
    for name, text in docs.items():
        path = out / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    qs = questions()
    missing = [q["answer"] for q in qs if q["answer"] not in docs]
    assert not missing, missing
    (out / "questions.yml").write_text(
        yaml.safe_dump(qs, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    print(f"wrote {len(docs)} documents and {len(qs)} questions under {out}")


if __name__ == "__main__":
    main()
