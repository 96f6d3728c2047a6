"""Check and type raw tables; report every problem at once.

Each problem names the file, sheet, row and column and says in B1 Dutch what
is wrong and how to fix it.  Nothing is stored here: `validate` either returns
typed records for every table or raises `ImportRejected` with all problems.

Child rows are case data.  Any cell in them that looks like a BSN (8 or 9
digits passing the elfproef; Excel drops a leading zero), a person's name or a
Dutch postcode is refused, so such data never reaches the database.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from providers import reference
from providers.codes import UNCLASSIFIED_CODE, code_values
from providers.errors import ImportRejected, Problem
from providers.io.export import is_neutralised, unneutralise
from providers.io.read import RawTable
from providers.schema import IMPORT_ORDER, TABLES, Column, Kind, Table

MAX_TEXT = 200
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,39}$")
DIGITS_RE = re.compile(r"\d")
# Numbers and dates in ASCII digits only: \d would also take "٣" or full-width digits.
INT_RE = re.compile(r"^[+-]?\d+$", re.ASCII)
NL_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$", re.ASCII)
EN_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$", re.ASCII)
ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
NL_DATE_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$", re.ASCII)
MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)
NL_MONTH_RE = re.compile(r"^(\d{1,2})[-/](\d{4})$", re.ASCII)
# No column needs a longer number; a longer one is refused before it is converted.
MAX_NUMBER_CHARS = 40
# Digits, optionally grouped by single spaces or dots ("123.456.782"); a dash
# is left out on purpose so ISO dates (2024-11-20) are never taken for a BSN.
BSN_CANDIDATE_RE = re.compile(r"(?<![\d\-])(\d(?:[ .]?\d){7,8})(?![\d\-])")
POSTCODE_RE = re.compile(r"\b[1-9]\d{3} ?[A-Za-z]{2}\b")
# Two or more capitalised words of letters only ("Jan Jansen", "Fatima el Amrani").
NAME_RE = re.compile(
    r"^[A-ZÀ-Þ][a-zß-ÿ'’]+(?:[ \-](?:(?:van|de|der|den|ter|ten|te|el|al|bin|von|la|le|da|di|'t)"
    r"|[A-ZÀ-Þ][a-zß-ÿ'’]+))+$"
)
WORD_ONLY_RE = re.compile(r"^[A-Za-zÀ-ÿ'’ \-]+$")
TRUE_WORDS = {"ja", "j", "true", "waar", "1", "yes", "y", "x"}
FALSE_WORDS = {"nee", "n", "false", "onwaar", "0", "no"}


def elfproef(digits: str) -> bool:
    """True if a 9-digit string passes the BSN eleven test."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    total -= int(digits[8])
    return total % 11 == 0


def looks_like_bsn(value: str) -> bool:
    for m in BSN_CANDIDATE_RE.finditer(value):
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) == 8:
            digits = "0" + digits  # Excel drops the leading zero of a number
        if elfproef(digits):
            return True
    return False


def looks_like_name(value: str) -> bool:
    v = value.strip()
    return bool(NAME_RE.match(v))


@dataclass
class Validated:
    """Typed records per table plus where each came from (for later messages)."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows: dict[str, list[int]] = field(default_factory=dict)
    sources: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def count(self, table: str) -> int:
        return len(self.records.get(table, []))


class _Ctx:
    def __init__(
        self,
        year: int,
        care_types: Mapping[str, reference.CareTypeInfo] | None,
        today: dt.date,
    ) -> None:
        self.year = year
        self.today = today
        self.codes: dict[str, dict[str, str]] = {}
        self.care_types = care_types
        gem = reference.gemeenten(year)
        self.gemeente_by_name = {g.name.lower(): c for c, g in gem.items()}

    def allowed(self, name: str) -> dict[str, str]:
        if name not in self.codes:
            self.codes[name] = code_values(name, self.year, self.care_types)
        return self.codes[name]


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _norm_code(name: str, raw: str, ctx: _Ctx) -> str:
    s = raw.strip()
    if name == "gemeente":
        u = s.upper()
        if u.isdigit() and len(u) <= 4:
            return f"GM{int(u):04d}"
        if u.startswith("GM"):
            return u
        return ctx.gemeente_by_name.get(s.lower(), u)
    if name == "budgetniveau":
        return s.lower()
    return (
        s.upper().replace(" ", "_").replace("-", "_")
        if name in {"zorgvorm", "hulpvraag", "kenmerk"}
        else s.upper()
    )


class _Parser:
    """Parses cells of one table; appends problems instead of raising."""

    def __init__(self, raw: RawTable, table: Table, ctx: _Ctx, problems: list[Problem]) -> None:
        self.raw = raw
        self.table = table
        self.ctx = ctx
        self.problems = problems

    def problem(self, row: int | None, col: str | None, msg: str, code: str = "ONGELDIG") -> None:
        self.problems.append(Problem(self.raw.file, self.raw.sheet, row, col, msg, code))

    def number(self, s: str) -> Decimal | None:
        t = s.replace("€", "").replace(" ", "").replace("\u00a0", "")
        # Thousands separators only in groups of three, so "12.3.4" is refused
        # instead of silently read as 1234.
        if self.raw.decimal_comma or ("," in t and "." not in t):
            if not NL_NUMBER_RE.match(t):
                return None
            t = t.replace(".", "").replace(",", ".")
        else:
            if not EN_NUMBER_RE.match(t):
                return None
            t = t.replace(",", "")  # 1,234.56
        try:
            d = Decimal(t)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None

    def date(self, v: Any, row: int, col: str) -> dt.date | None:
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        s = _text(v)
        m = ISO_DATE_RE.match(s)
        parts: tuple[int, int, int] | None = None
        if m:
            parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        else:
            m = NL_DATE_RE.match(s)
            if m:
                parts = (int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if parts is None:
            self.problem(
                row,
                col,
                f"'{s}' is geen datum. Schrijf jjjj-mm-dd, bijvoorbeeld 2025-03-01.",
                "DATUM",
            )
            return None
        try:
            return dt.date(*parts)
        except ValueError:
            self.problem(row, col, f"De datum '{s}' bestaat niet.", "DATUM")
            return None

    def cell(self, col: Column, v: Any, row: int) -> Any:
        name = col.name
        if isinstance(v, list | tuple):  # JSON lists for CODES columns
            v = ",".join(str(x) for x in v)
        elif isinstance(v, dict):
            self.problem(row, name, "Hier hoort één waarde, geen object.", "ONGELDIG")
            return None
        # Our own export quoted this text so a spreadsheet shows it as text; it is text,
        # not a formula, and the quote is not part of it.
        quoted = isinstance(v, str) and is_neutralised(v)
        if quoted:
            v = unneutralise(v)
        if v is None or (isinstance(v, str) and not v.strip()):
            if col.required:
                self.problem(row, name, "Dit veld is verplicht. Vul een waarde in.", "VERPLICHT")
            if col.kind is Kind.BOOL:
                return False
            if col.kind is Kind.CODES:
                return ()
            return None
        if isinstance(v, str) and "\x00" in v:
            self.problem(
                row,
                name,
                "Deze cel bevat een onzichtbaar nul-teken. Typ de waarde opnieuw.",
                "CODERING",
            )
            return None
        if not quoted and isinstance(v, str) and v.lstrip().startswith("="):
            self.problem(
                row, name, "Een formule is hier niet toegestaan. Vul de waarde zelf in.", "FORMULE"
            )
            return None
        k = col.kind
        if k in (Kind.TEXT, Kind.ID, Kind.REF, Kind.CODE, Kind.CODES):
            s = _text(v)
            if len(s) > MAX_TEXT:
                self.problem(
                    row,
                    name,
                    f"De tekst is te lang ({len(s)} tekens; hooguit {MAX_TEXT}).",
                    "TE_LANG",
                )
                return None
            if k is Kind.TEXT:
                return s
            if k in (Kind.ID, Kind.REF):
                if not ID_RE.match(s):
                    self.problem(
                        row,
                        name,
                        f"'{s}' is geen geldige code. Gebruik alleen letters, cijfers, '-' of '_', "
                        "zonder spaties.",
                        "CODE",
                    )
                    return None
                if k is Kind.REF and not DIGITS_RE.search(s):
                    self.problem(
                        row,
                        name,
                        f"'{s}' lijkt op een naam. Gebruik een pseudoniem met cijfers, "
                        "bijvoorbeeld K-00012.",
                        "NAAM",
                    )
                    return None
                return s
            if col.codes is None:  # a list of ids (checked against their table later)
                ids = tuple(dict.fromkeys(x.strip() for x in re.split(r"[,|]", s) if x.strip()))
                bad = [x for x in ids if not ID_RE.match(x)]
                for x in bad:
                    self.problem(row, name, f"'{x}' is geen geldige code.", "CODE")
                return tuple(x for x in ids if x not in bad)
            allowed = self.ctx.allowed(col.codes)
            items = [s] if k is Kind.CODE else [p for p in re.split(r"[,|]", s) if p.strip()]
            out: list[str] = []
            for item in items:
                c = _norm_code(col.codes, item, self.ctx)
                if c not in allowed:
                    self.problem(
                        row,
                        name,
                        f"Onbekende code '{item.strip()}' voor {col.codes}. "
                        "Kies een code uit de Toelichting.",
                        "ONBEKENDE_CODE",
                    )
                    continue
                if c not in out:
                    out.append(c)
            if k is Kind.CODE:
                return out[0] if out else None
            return tuple(out)
        if k is Kind.BOOL:
            if isinstance(v, bool):
                return v
            s = _text(v).lower()
            if s in TRUE_WORDS:
                return True
            if s in FALSE_WORDS:
                return False
            self.problem(row, name, f"'{_text(v)}' is geen ja of nee.", "JA_NEE")
            return None
        if k is Kind.DATE:
            d = self.date(v, row, name)
            if d is not None and not (dt.date(1990, 1, 1) <= d <= dt.date(2100, 12, 31)):
                self.problem(row, name, f"De datum {d.isoformat()} is niet mogelijk.", "DATUM")
                return None
            return d
        if k is Kind.MONTH:
            if isinstance(v, dt.date | dt.datetime):
                return f"{v.year:04d}-{v.month:02d}"
            s = _text(v)
            m = MONTH_RE.match(s)
            ym = (int(m.group(1)), int(m.group(2))) if m else None
            if ym is None:
                m2 = NL_MONTH_RE.match(s)
                ym = (int(m2.group(2)), int(m2.group(1))) if m2 else None
            if ym is None or not 1 <= ym[1] <= 12:
                self.problem(
                    row,
                    name,
                    f"'{s}' is geen maand. Schrijf jjjj-mm, bijvoorbeeld 2012-05.",
                    "MAAND",
                )
                return None
            return f"{ym[0]:04d}-{ym[1]:02d}"
        # numbers
        if isinstance(v, bool) or (isinstance(v, float) and not math.isfinite(v)):
            num: Decimal | None = None
        elif isinstance(v, int):
            num = Decimal(v)
        elif isinstance(v, float):
            num = Decimal(str(v))
        elif len(_text(v)) > MAX_NUMBER_CHARS:
            self.problem(
                row, name, f"Dit getal is te lang (meer dan {MAX_NUMBER_CHARS} tekens).", "GETAL"
            )
            return None
        else:
            s = _text(v)
            num = (
                Decimal(s)
                if k is Kind.INT and INT_RE.match(s)
                else (None if k is Kind.INT else self.number(s))
            )
        if num is None or (k is Kind.INT and num != num.to_integral_value()):
            what = "geheel getal" if k is Kind.INT else ("bedrag" if k is Kind.EUR else "getal")
            self.problem(row, name, f"'{_text(v)}' is geen {what}.", "GETAL")
            return None
        if col.min is not None and num < Decimal(str(col.min)):
            self.problem(
                row,
                name,
                f"Het getal {num} is te klein; het moet minstens {col.min:g} zijn.",
                "BEREIK",
            )
            return None
        if col.max is not None and num > Decimal(str(col.max)):
            self.problem(
                row,
                name,
                f"Het getal {num} is te groot; het mag hooguit {col.max:g} zijn.",
                "BEREIK",
            )
            return None
        if k is Kind.INT:
            return int(num)
        if k is Kind.EUR:
            cents = num * 100
            if cents != cents.to_integral_value():
                self.problem(
                    row, name, "Een bedrag heeft hooguit twee cijfers achter de komma.", "GETAL"
                )
                return None
            return int(cents)
        return float(num)


def _pii_check(p: _Parser, row: int, header: Sequence[str], cells: Sequence[Any]) -> bool:
    """Refuse BSN-, name- and address-like values anywhere in a child row."""
    ok = True
    for h, v in zip(header, cells, strict=False):
        if v is None or isinstance(v, dt.date | dt.datetime | bool):
            continue
        s = _text(v)
        if not s:
            continue
        if looks_like_bsn(s):
            p.problem(
                row,
                h or None,
                "Deze waarde lijkt op een BSN. Zet nooit een BSN in het bestand; "
                "gebruik een pseudoniem.",
                "BSN",
            )
            ok = False
        elif POSTCODE_RE.search(s):
            p.problem(
                row,
                h or None,
                "Deze waarde lijkt op een adres of postcode. Dat mag niet in het bestand.",
                "ADRES",
            )
            ok = False
        elif looks_like_name(s) and (h not in TABLES["kinderen"].column_names or _name_possible(h)):
            p.problem(
                row,
                h or None,
                "Deze waarde lijkt op de naam van een persoon. Gebruik alleen pseudoniemen.",
                "NAAM",
            )
            ok = False
    return ok


def _name_possible(column: str) -> bool:
    """Code columns cannot hold a name once parsed; free-text-like ones can."""
    col = TABLES["kinderen"].column(column)
    return col.kind in (Kind.TEXT, Kind.REF, Kind.ID)


def validate(
    raw_tables: Iterable[RawTable],
    read_problems: Iterable[Problem] = (),
    *,
    year: int = reference.DEFAULT_YEAR,
    care_types: Mapping[str, reference.CareTypeInfo] | None = None,
    known_keys: Mapping[str, Iterable[str]] | None = None,
    today: dt.date | None = None,
    required_tables: Sequence[str] = (),
) -> Validated:
    """Type every table and check every rule; raise `ImportRejected` with all problems.

    `known_keys` are keys already in the database (e.g. aanbieder_id when a
    provider uploads only its aanbod), so references to them are accepted.
    """
    problems: list[Problem] = list(read_problems)
    ctx = _Ctx(year, care_types, today or dt.date.today())
    out = Validated()
    seen_tables: dict[str, str] = {}

    for raw in raw_tables:
        table = TABLES[raw.table]
        p = _Parser(raw, table, ctx, problems)
        if raw.table in seen_tables:
            p.problem(
                None,
                None,
                f"De tabel {raw.table} staat ook in {seen_tables[raw.table]}. "
                "Lever haar één keer aan.",
                "DUBBEL",
            )
            continue
        seen_tables[raw.table] = raw.file
        header = raw.header
        known_cols = set(table.column_names)
        dupes = {h for h in header if header.count(h) > 1 and h}
        for h in sorted(dupes):
            p.problem(1, h, f"De kolom {h} staat er meer dan één keer in.", "KOLOM")
        for h in header:
            if h and h not in known_cols:
                p.problem(
                    1, h, f"Onbekende kolom '{h}'. Gebruik de kolommen van het sjabloon.", "KOLOM"
                )
            elif not h:
                p.problem(1, None, "Er is een kolom zonder naam.", "KOLOM")
        missing = [c.name for c in table.columns if c.required and c.name not in header]
        for m in missing:
            p.problem(1, m, f"De verplichte kolom {m} ontbreekt.", "KOLOM")
        index = {h: i for i, h in enumerate(header) if h in known_cols and h not in dupes}

        records: list[dict[str, Any]] = []
        rownums: list[int] = []
        keys: dict[str, int] = {}
        for rownum, cells in raw.rows:
            if len(cells) > len(header) and any(c not in (None, "") for c in cells[len(header) :]):
                p.problem(rownum, None, "Deze rij heeft meer cellen dan er kolommen zijn.", "KOLOM")
            if table.case_data and not _pii_check(p, rownum, header, cells):
                continue
            rec: dict[str, Any] = {}
            for col in table.columns:
                i = index.get(col.name)
                if i is None:
                    if col.name in missing:
                        continue
                    rec[col.name] = p.cell(col, None, rownum) if not col.required else None
                    continue
                rec[col.name] = p.cell(col, cells[i] if i < len(cells) else None, rownum)
            _row_rules(p, table.name, rec, rownum, ctx)
            key = rec.get(table.key)
            if key is not None:
                if key in keys:
                    p.problem(
                        rownum,
                        table.key,
                        f"{table.key} {key} staat ook al in rij {keys[key]}.",
                        "DUBBEL",
                    )
                else:
                    keys[key] = rownum
            records.append(rec)
            rownums.append(rownum)
        out.records[table.name] = records
        out.rows[table.name] = rownums
        out.sources[table.name] = (raw.file, raw.sheet)

    for t in required_tables:
        if t not in out.records:
            problems.append(
                Problem("(upload)", t, None, None, f"De tabel {t} ontbreekt.", "ONTBREEKT")
            )

    _references(out, known_keys or {}, problems)
    if problems:
        raise ImportRejected(problems)
    return out


def _row_rules(p: _Parser, table: str, r: dict[str, Any], row: int, ctx: _Ctx) -> None:
    today = ctx.today
    if table == "aanbod":
        lo, hi = r.get("leeftijd_min"), r.get("leeftijd_max")
        if lo is not None and hi is not None and lo > hi:
            p.problem(
                row,
                "leeftijd_max",
                "De oudste leeftijd is lager dan de jongste leeftijd.",
                "BEREIK",
            )
    if table == "contracten":
        a, b = r.get("geldig_van"), r.get("geldig_tot")
        if a and b and a > b:
            p.problem(row, "geldig_tot", "Het contract eindigt voordat het begint.", "DATUM")
        g, reg = r.get("gemeente"), r.get("regio")
        if g and reg and reference.gemeenten(ctx.year)[g].region_code != reg:
            p.problem(row, "gemeente", f"Gemeente {g} hoort niet bij regio {reg}.", "REGIO")
    if table == "budgetten":
        level = r.get("niveau")
        if level in ("aanbieder", "perceel") and not r.get("aanbieder_id"):
            p.problem(
                row, "aanbieder_id", f"Bij niveau {level} is aanbieder_id verplicht.", "VERPLICHT"
            )
        if level == "perceel" and not r.get("perceel"):
            p.problem(row, "perceel", "Bij niveau perceel is perceel verplicht.", "VERPLICHT")
        if level == "gemeente" and not r.get("gemeente"):
            p.problem(row, "gemeente", "Bij niveau gemeente is gemeente verplicht.", "VERPLICHT")
    for col in ("bevestigd_op", "uitspraakdatum", "gi_in_kennis_datum"):
        d = r.get(col)
        if isinstance(d, dt.date) and d > today:
            p.problem(row, col, f"De datum {d.isoformat()} ligt in de toekomst.", "DATUM")
    if table == "kinderen":
        ruling, urgent = r.get("uitspraakdatum"), r.get("urgente_deadline")
        if ruling and urgent and urgent < ruling:
            p.problem(
                row, "urgente_deadline", "De urgente deadline ligt voor de uitspraakdatum.", "DATUM"
            )
        born = r.get("geboortemaand")
        if born:
            y, m = int(born[:4]), int(born[5:7])
            if (y, m) > (today.year, today.month):
                p.problem(row, "geboortemaand", "De geboortemaand ligt in de toekomst.", "DATUM")
            elif ruling and (y, m) > (ruling.year, ruling.month):
                p.problem(
                    row, "geboortemaand", "De geboortemaand ligt na de uitspraakdatum.", "DATUM"
                )
            elif ruling and (ruling.year - y) > 23:
                p.problem(
                    row,
                    "geboortemaand",
                    "Het kind is ouder dan 23 jaar bij de uitspraak.",
                    "BEREIK",
                )
        needs = [r.get("zorgvorm"), r.get("zorgvorm_2"), r.get("zorgvorm_3")]
        present = [n for n in needs if n and n != UNCLASSIFIED_CODE]  # may be there twice
        if len(set(present)) != len(present):
            p.problem(row, "zorgvorm_2", "Dezelfde zorgvorm staat er twee keer in.", "DUBBEL")


_MISSING = {  # a reference whose plain message would not say what to do
    "gezinswens_aanbieder_id": "Aanbieder {x} bestaat niet. Vul het aanbieder_id in van de "
    "aanbieder waar het gezin op de wachtlijst wil blijven, of laat het vak leeg.",
}


def _references(v: Validated, known: Mapping[str, Iterable[str]], problems: list[Problem]) -> None:
    keys: dict[str, set[str]] = {t: set(known.get(t, ())) for t in TABLES}
    for t, recs in v.records.items():
        keys[t] |= {r[TABLES[t].key] for r in recs if r.get(TABLES[t].key)}
    for t in IMPORT_ORDER:
        if t not in v.records:
            continue
        table = TABLES[t]
        file, sheet = v.sources[t]
        for col in table.columns:
            if not col.refers_to:
                continue
            target = keys[col.refers_to]
            for rec, row in zip(v.records[t], v.rows[t], strict=True):
                val = rec.get(col.name)
                vals = val if isinstance(val, tuple) else ((val,) if val else ())
                for x in vals:
                    if x not in target:
                        text = _MISSING.get(col.name, "{x} staat niet in de tabel {table}.")
                        text = text.format(x=x, table=col.refers_to)
                        problems.append(Problem(file, sheet, row, col.name, text, "VERWIJZING"))
