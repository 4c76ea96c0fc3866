"""The named demo customers (UK drama-reserved phone numbers +44 7700 900xxx, example.* e-mail domains)."""

from typing import NamedTuple


class Customer(NamedTuple):
    name: str
    phone: str  # E.164
    email: str
    handle: str | None = None  # social handle, without "@"


CUSTOMERS: dict[str, Customer] = {
    "maria": Customer("Maria Lopez", "+447700900123", "maria.lopez@example.com", "marial"),
    "james": Customer("James Whitfield", "+447700900231", "j.whitfield@example.org"),
    "priya": Customer("Priya Shah", "+447700900456", "priya.shah@example.net"),
    "tom": Customer("Tom Baker", "+447700900318", "tombaker77@example.com"),
    "grace": Customer("Grace Okafor", "+447700900542", "grace.okafor@example.com"),
    "oliver": Customer("Oliver Grant", "+447700900617", "oliver.grant@example.org"),
    "helen": Customer("Helen Murray", "+447700900728", "helen.murray@example.net"),
    "rachel": Customer("Rachel Green", "+447700900839", "rachel.g@example.com"),
    "ahmed": Customer("Ahmed Khan", "+447700900944", "ahmed.khan@example.org"),
    "lucy": Customer("Lucy Evans", "+447700900152", "lucy.evans@example.com"),
    "daniel": Customer("Daniel Moore", "+447700900263", "dmoore@example.net"),
    "sophie": Customer("Sophie Turner", "+447700900374", "sophie.turner@example.com"),
    "mark": Customer("Mark Davies", "+447700900485", "mark.davies@example.org"),
    "emma": Customer("Emma Campbell", "+447700900596", "emma.campbell@example.com"),
    "peter": Customer("Peter Walsh", "+447700900607", "peter.walsh@example.net"),
    # Social-first customers.
    "techguru": Customer("Gareth Price", "+447700900711", "gareth@techguru.example", "techguru"),
    "sally": Customer("Sally Kerr", "+447700900722", "sally.kerr@example.com", "sally_k"),
    "quiet": Customer("Chris Noble", "+447700900733", "chris.noble@example.org", "quietcustomer"),
    # Chat / e-mail customers.
    "nina": Customer("Nina Patel", "+447700900744", "nina.patel@example.com"),
    "owen": Customer("Owen Hughes", "+447700900755", "owen.hughes@example.net"),
    "zara": Customer("Zara Ali", "+447700900766", "zara.ali@example.com"),
    "ben_t": Customer("Ben Thompson", "+447700900777", "ben.thompson@example.org"),
    "fiona": Customer("Fiona Reid", "+447700900788", "fiona.reid@example.com"),
    "kwame": Customer("Kwame Mensah", "+447700900799", "kwame.mensah@example.net"),
    "irene": Customer("Irene Novak", "+447700900810", "irene.novak@example.com"),
    "luke": Customer("Luke Fraser", "+447700900821", "luke.fraser@example.org"),
    "amira": Customer("Amira Haddad", "+447700900832", "amira.haddad@example.com"),
    "george": Customer("George Mills", "+447700900843", "george.mills@example.net"),
    "hannah": Customer("Hannah Price", "+447700900854", "hannah.price@example.com"),
    "victor": Customer("Victor Silva", "+447700900865", "victor.silva@example.org"),
    "julia": Customer("Julia Brown", "+447700900876", "julia.brown@example.com"),
    "sean": Customer("Sean O'Neill", "+447700900887", "sean.oneill@example.net"),
    "megan": Customer("Megan Lewis", "+447700900898", "megan.lewis@example.com"),
    "adam": Customer("Adam Wright", "+447700900909", "adam.wright@example.org"),
    "chloe": Customer("Chloe Adams", "+447700900910", "chloe.adams@example.com"),
}
