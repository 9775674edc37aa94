"""Word pools for the demo-data generator (invented for tandem; no real people)."""

from __future__ import annotations

GIVEN_NAMES = (
    "Aaron Abigail Adam Adrian Aisha Alan Alexander Alexandra Alice Alfie Amber Amelia Amir Andrew Angela Anna "
    "Anthony Archie Arjun Arthur Ava Barbara Beatrice Benjamin Bethany Bradley Brian Caitlin Callum Carl Caroline "
    "Charles Charlotte Chloe Christopher Christine Clara Connor Craig Daisy Daniel Darren David Deborah Declan "
    "Dominic Dylan Edward Eleanor Elena Elijah Elizabeth Ellie Emily Emma Ethan Evelyn Fatima Felix Finley Fiona "
    "Florence Francesca Frederick Freya Gabriel Gareth George Georgia Gemma Gordon Grace Graham Hamish Hannah "
    "Harriet Harry Hassan Hazel Heather Helen Henry Holly Hugo Ian Imogen Isaac Isabel Isla Ivan Jacob Jade Jasmine "
    "Jason Jennifer Jessica Joanna Joel Jonathan Joseph Joshua Julia Justin Karen Katherine Keith Kevin Kieran "
    "Laura Layla Leah Leo Lewis Lily Linda Logan Lola Louise Lucas Lucy Luke Maisie Malcolm Margaret Maria Mark "
    "Martha Martin Matilda Matthew Maya Megan Michael Mohammed Molly Naomi Natalie Nathan Neil Nicholas Nicola "
    "Nina Noah Olivia Omar Oscar Owen Patricia Patrick Paul Penelope Peter Philip Phoebe Poppy Priya Rachel Rebecca "
    "Reuben Richard Robert Rosa Rose Rory Ruby Ryan Sally Samantha Samuel Sandra Sarah Scarlett Sean Sebastian "
    "Simon Sofia Sophie Stanley Stella Stephen Stuart Susan Tariq Teresa Theo Thomas Tobias Tom Valerie Victoria "
    "Vincent Wendy William Yasmin Yusuf Zachary Zara Zoe"
).split()

FAMILY_NAMES = (
    "Abbott Adams Ahmed Ali Allen Anderson Armstrong Atkinson Bailey Baker Ball Banks Barker Barnes Bell Bennett "
    "Berry Bird Bishop Black Booth Bradley Brooks Brown Burns Butler Campbell Carr Carter Chambers Chapman Clark "
    "Clarke Cole Collins Cook Cooper Cox Craig Cunningham Davies Davis Dawson Dean Dixon Doyle Duncan Edwards "
    "Elliott Ellis Evans Fisher Fleming Fletcher Ford Foster Fox Fraser Gardner Gibson Gill Gordon Graham Grant "
    "Gray Green Griffiths Hall Hamilton Harper Harris Harrison Hart Harvey Hayes Henderson Hill Holmes Hopkins "
    "Howard Hudson Hughes Hunt Hunter Hussain Jackson James Jenkins Johnson Johnston Jones Kaur Kelly Kennedy Khan "
    "King Knight Lambert Lane Lawrence Lee Lewis Lloyd Marshall Martin Mason Matthews McDonald Miller Mills "
    "Mitchell Moore Morgan Morris Murphy Murray Nelson Newman Nicholson Owen Palmer Parker Patel Pearce Pearson "
    "Perry Phillips Poole Porter Powell Price Reid Reynolds Richards Richardson Roberts Robertson Robinson Rogers "
    "Rose Ross Russell Ryan Saunders Scott Shaw Simpson Singh Smith Spencer Stevens Stewart Stone Sutton Taylor "
    "Thomas Thompson Thomson Turner Walker Wallace Walsh Ward Watson Watts Webb Wells West White Wilkinson "
    "Williams Wilson Wood Woods Wright Young"
).split()

CITIES_GB = (
    ("London", "E1"), ("Manchester", "M1"), ("Birmingham", "B1"), ("Leeds", "LS1"), ("Glasgow", "G1"),
    ("Bristol", "BS1"), ("Cardiff", "CF10"), ("Edinburgh", "EH1"), ("Liverpool", "L1"), ("Newcastle", "NE1"),
    ("Sheffield", "S1"), ("Nottingham", "NG1"), ("Brighton", "BN1"), ("Belfast", "BT1"), ("York", "YO1"),
)
CITIES_US = (("Boston", "02108"), ("Chicago", "60601"), ("Seattle", "98101"), ("Austin", "73301"), ("Denver", "80202"))
STREETS = "High Street|Station Road|Church Lane|Mill Road|Park Avenue|Victoria Road|Green Lane|Manor Way|Queens Road|Oak Close".split("|")

EMAIL_DOMAINS = ("gmail.com", "example.com", "example.net", "example.org", "mail.example.co.uk", "post.example.com")

CATEGORIES = {
    "electronics": (("headphones", 5999), ("phone charger", 1999), ("smart speaker", 8999), ("tablet", 29900)),
    "books": (("novel", 899), ("cookbook", 1999), ("travel guide", 1499), ("children's book", 699)),
    "toys": (("building blocks", 2999), ("board game", 2499), ("plush bear", 1499), ("puzzle", 1299)),
    "clothing": (("jumper", 3999), ("rain jacket", 7999), ("t-shirt", 1299), ("jeans", 4999)),
    "home": (("lamp", 3499), ("cushion", 1599), ("bedding set", 5999), ("picture frame", 1199)),
    "garden": (("hose", 2499), ("plant pot", 999), ("garden chair", 4999), ("seed kit", 799)),
    "beauty": (("face cream", 1899), ("perfume", 4599), ("hair dryer", 3999), ("gift set", 2499)),
    "sports": (("yoga mat", 2499), ("running shoes", 8999), ("water bottle", 1299), ("bike light", 1999)),
    "kitchen": (("kettle", 3499), ("knife set", 6999), ("coffee grinder", 4599), ("mixing bowls", 1999)),
}
CARRIERS = ("Royal Mail", "DPD", "Evri", "DHL", "UPS")
TOPICS = ("order_status", "delivery_problem", "refund", "return", "billing", "account", "product_question", "complaint")
CAMPAIGNS = ("spring_sale", "summer_garden", "back_to_school", "black_friday", "christmas_gifts", "new_year_fitness")
