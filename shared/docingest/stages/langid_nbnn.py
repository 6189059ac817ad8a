"""Norwegian Bokmål / Nynorsk arbiter: hand-written lexicon of the forms that differ between the two
written standards (from knowledge of the languages; not fitted on any data). Positive: Nynorsk.
"""
from __future__ import annotations

import math
import re

__all__ = ["nynorsk_score", "arbitrate"]

_NN = (
    "ikkje eg kva korleis kven kvar kvifor frå berre noko nokon nokre mykje vere vore vert vart heile meir "
    "fleire dei deira deim sjølv sjølve òg ho hennar eit ein eitt desse difor då tilhøve høve rettar rettane "
    "menneska fridom fridomen likskap utan anna same sams gjere seie gje fekk kome kjem gjeld høyrer tru bu "
    "ynskje veit sjå hjå ifrå enno elles medan sidan viss korkje anten inga kvarandre einskild einskilde "
    "nasjonar statar born borna landet sitt vedkomande verda kyrkja skule skulen gjennomføre lova lovene "
    "grunnlova møte tenleg nytte"
)
_NB = (
    "ikke jeg hva hvordan hvem hvor hvorfor fra bare noe noen mye være vært ble hele mer flere de deres dem "
    "selv hun hennes et disse derfor da rettigheter rettighetene menneskene frihet friheten likhet uten "
    "annen annet samme gjøre fikk kommer gjelder tro bo ønske vet se hos ennå ellers mens siden hvis verken "
    "enten hverandre enkelt enkelte nasjoner stater barn barna verden kirken skole skolen lov loven "
    "grunnloven nyttig"
)
_WEIGHTS = {w: 1.0 for w in _NN.split()}
_WEIGHTS.update({w: -1.0 for w in _NB.split()})
for _w in ("ikkje", "eg", "kva", "korleis", "frå", "berre", "noko", "mykje", "vere", "dei", "sjølv", "ho",
           "eit", "ein", "desse", "utan", "medan", "hjå", "kvarandre", "fridom", "likskap"):
    _WEIGHTS[_w] = 2.0
for _w in ("ikke", "jeg", "hva", "hvordan", "fra", "bare", "noe", "mye", "være", "hun", "et", "disse", "uten",
           "mens", "hos", "hverandre", "frihet", "likhet", "rettigheter"):
    _WEIGHTS[_w] = -2.0
_WORD_RE = re.compile(r"[^\W\d_]+")


def nynorsk_score(text: str) -> float:
    return sum(_WEIGHTS.get(w, 0.0) for w in _WORD_RE.findall(text.lower()))


def arbitrate(text: str, p_nb: float, p_nn: float) -> tuple[str, float]:
    """Choose nb or nn from the lexicon plus a damped prior from the base model's odds."""
    score = nynorsk_score(text) + 0.5 * math.log((p_nn + 1e-3) / (p_nb + 1e-3))
    p_nn_post = 1.0 / (1.0 + math.exp(-score))
    return ("nn", p_nn_post) if score > 0 else ("nb", 1.0 - p_nn_post)
