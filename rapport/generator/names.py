"""Word lists for synthetic names. Plausible, but obviously synthetic (e-mail domains end in
.example, private notes say they are synthetic)."""

from __future__ import annotations

FIRST_NAMES = (
    "Ada", "Alan", "Alma", "Anton", "Aria", "Ben", "Bianca", "Carl", "Clara", "Dario", "Dina",
    "Elena", "Emil", "Erik", "Eva", "Felix", "Freya", "Greta", "Hana", "Hugo", "Ida", "Igor",
    "Ines", "Jan", "Jonas", "Julia", "Karin", "Kenji", "Lara", "Leon", "Lina", "Luca", "Maja",
    "Marco", "Mei", "Mila", "Nadia", "Nils", "Nora", "Olga", "Omar", "Oskar", "Paula", "Pavel",
    "Petra", "Rafael", "Rosa", "Ruben", "Sara", "Selim", "Sofia", "Stefan", "Tara", "Teo",
    "Uma", "Vera", "Viktor", "Wen", "Yara", "Yusuf", "Zoe", "Li", "Chen", "Aiko", "Bruno",
)

LAST_NAMES = (
    "Andersen", "Baker", "Berg", "Brandt", "Castro", "Costa", "Dahl", "Duarte", "Eklund",
    "Fischer", "Fontaine", "Garcia", "Gruber", "Hale", "Hansen", "Horvat", "Ivanova", "Jensen",
    "Kaur", "Keller", "Kowalski", "Lambert", "Larsen", "Lindqvist", "Moreau", "Novak", "Okafor",
    "Olsen", "Park", "Petrov", "Quinn", "Rossi", "Sato", "Schmid", "Silva", "Sorensen",
    "Tanaka", "Varga", "Vogel", "Walsh", "Weber", "Wong", "Yilmaz", "Zhang", "Zimmer", "Liu",
    "Wang", "Meyer", "Nakamura", "Ortega",
)

REGION_NAMES = (
    "Capital Region", "North", "East Coast", "South", "West", "Central", "Northeast",
    "Southwest", "Lakes", "Delta", "Highlands", "Plains", "Riverside", "Harbour", "Valley",
    "Uplands", "Northwest", "Southeast", "Midlands", "Coastal", "Frontier", "Metro",
    "Interior", "Peninsula", "Islands", "Border", "Forest", "Steppe", "Bay Area", "Hills",
)

COUNTRIES = ("Northland", "Eastmark", "Southreach", "Westvale")

INDUSTRIES = (
    "telecom", "finance", "energy", "manufacturing", "public_sector", "healthcare", "retail",
    "transport",
)
# Share of accounts per industry (same order as INDUSTRIES).
INDUSTRY_WEIGHTS = (0.16, 0.15, 0.12, 0.18, 0.12, 0.09, 0.10, 0.08)

COMPANY_PREFIXES = (
    "Aurora", "Beacon", "Boreal", "Cedar", "Cobalt", "Crescent", "Delta", "Ember", "Fjord",
    "Granite", "Harbor", "Horizon", "Indigo", "Juniper", "Keystone", "Lumen", "Maple",
    "Meridian", "Nimbus", "Northstar", "Oak", "Onyx", "Orion", "Pioneer", "Polar", "Quarry",
    "Redwood", "Ridge", "Sable", "Sierra", "Silver", "Solstice", "Summit", "Tidal", "Topaz",
    "Union", "Vantage", "Vertex", "Willow", "Zenith", "Atlas", "Bright", "Clearwater",
    "Copper", "Evergreen", "Falcon", "Golden", "Ironwood", "Lakeside", "Monarch",
)
INDUSTRY_NOUNS = {
    "telecom": ("Telecom", "Mobile", "Networks", "Broadband", "Connect", "Fibre"),
    "finance": ("Bank", "Capital", "Insurance", "Savings", "Finance", "Trust"),
    "energy": ("Energy", "Power", "Grid", "Utilities", "Renewables", "Oil & Gas"),
    "manufacturing": ("Industries", "Machinery", "Motors", "Steel", "Components", "Works"),
    "public_sector": ("City Council", "Public Agency", "Authority", "Municipality",
                      "Ministry Office", "Public Services"),
    "healthcare": ("Health", "Hospital Group", "Clinics", "Medical", "Care", "Pharma"),
    "retail": ("Retail", "Stores", "Markets", "Outlets", "Commerce", "Trading"),
    "transport": ("Logistics", "Rail", "Airlines", "Shipping", "Transit", "Freight"),
}
COMPANY_SUFFIXES = ("Group", "Holdings", "Ltd", "Corp", "Co.", "Inc", "AG", "plc", "SA", "Partners")

DEPARTMENTS = (
    "Executive Office", "Procurement", "IT", "Finance", "Operations", "Network Planning",
    "Engineering", "Legal", "Marketing", "R&D", "Customer Service", "Strategy",
)
LEVEL_TITLES = {
    "high": ("Director", "Vice President", "Head"),
    "middle": ("Manager", "Senior Manager", "Team Lead"),
    "low": ("Specialist", "Engineer", "Analyst", "Coordinator"),
}
APPROVER_TITLES = ("Chief Executive Officer", "Chief Financial Officer", "Chairman",
                   "Chief Operating Officer", "General Manager")

PRIVATE_NOTES = (
    "[synthetic] Enjoys fishing on weekends.",
    "[synthetic] Prefers tea to coffee; avoid early meetings.",
    "[synthetic] Two children; daughter starts university this year.",
    "[synthetic] Marathon runner.",
    "[synthetic] Collects vintage maps.",
    "[synthetic] Plays golf with the CFO on Fridays.",
    "[synthetic] Vegetarian.",
    "[synthetic] Recently moved house.",
    "[synthetic] Keen photographer, likes trade fairs.",
    "[synthetic] Supports the local football club.",
)

OUTCOMES = {
    "key": (
        "Agreed next steps for the tender", "Discussed budget for next year",
        "Customer raised pricing concerns", "Introduced to the new CTO",
        "Confirmed support for our proposal", "Learned the evaluation criteria",
        "Customer prefers a competitor's roadmap", "Invited to submit a proposal",
        "Clarified decision timeline", "Personal rapport improved",
    ),
    "general": (
        "Shared product update", "Answered technical questions", "Sent follow-up material",
        "Collected feedback on delivery", "Good attendance, several new contacts",
        "Routine care done", "Scheduled a workshop", "Customer asked for references",
    ),
    "org": (
        "Executives agreed a joint roadmap", "Signed memorandum of understanding",
        "Agreed quarterly executive dialogue", "Process integration milestone reached",
        "Joint press release planned", "Strategic fit reviewed with both boards",
    ),
}

PLAN_DESCRIPTIONS = {
    "key": ("Raise support of the approver", "Win over the technical evaluator",
            "Deepen relationship with the decision maker", "Repair relationship with opponent",
            "Develop a coach"),
    "general": ("Broaden contacts in operations", "Routine care for middle management",
                "Technical seminar for engineering", "Holiday visits to key departments"),
    "org": ("Executive dialogue twice a year", "Start process integration",
            "Prepare strategic agreement", "Joint innovation workshop"),
}

OPPORTUNITY_TOPICS = ("Network upgrade", "Cloud migration", "Data centre refresh",
                      "Managed services", "Security platform", "Storage expansion",
                      "Field devices rollout", "Software licences", "Support renewal",
                      "Analytics platform")
PRODUCT_LINES = ("Network", "Cloud", "Storage", "Services", "Software", "Devices")
OPEN_STAGES = ("Qualification", "Needs Analysis", "Proposal", "Negotiation")

COMPETITORS = ("Borealis Systems", "Cobalt Networks", "Helix Solutions", "Meridian Tech",
               "Quantum Peak")
FEEDBACK_CATEGORIES = ("product", "service", "delivery", "commercial", "other")
FEEDBACK_CATEGORY_WEIGHTS = (0.3, 0.25, 0.2, 0.15, 0.1)
ROUTING_TEAMS = ("Product Management", "Service Desk", "Delivery Team", "Pricing Desk",
                 "Quality Office", "Regional Director")
