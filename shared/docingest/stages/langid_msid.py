"""Indonesian / Malay arbiter: hand-written lexicon of words that differ between the two standards.

Written from knowledge of the languages (Kamus Dewan / KBBI usage); two of the revision rounds below
were made after reviewing benchmark errors and are labelled as such (they are tuned on those lines).
Positive weight: Malay (Malaysia, Brunei, Singapore); negative: Indonesian. A word used in both with a
clear preference counts 1, a word (or spelling) that belongs to one standard only counts 2-3. Besides
single words: a few word pairs (``_BIGRAMS``) and the loanword endings -iti (Malay) / -itas (Indonesian).
"""
from __future__ import annotations

import gzip
import math
import os
import re
from functools import cache

__all__ = ["malay_score", "arbitrate"]

_MS = {
    3: "kerana bahawa iaitu sahaja ramai pelbagai kerajaan percuma pejabat mahkamah wang daripada "
       "jenayah kanak-kanak kesihatan perkhidmatan perubatan maklumat antarabangsa sempadan perkahwinan "
       "berkahwin fikiran berfikir perbezaan berbeza hendaklah mana-mana sebarang sesetengah semalam "
       "bilion trilion peratus setiausaha pengerusi timbalan parlimen pilihanraya pilihan-raya kempen "
       "projek telefon televisyen filem muzik sukan kejohanan jurulatih perlawanan pelancongan pelancong "
       "syarikat kakitangan kedai kereta bas teksi hospital doktor ubat pesakit jururawat kemalangan "
       "mangsa tentera askar bekas kenyataan universiti kualiti aktiviti komuniti identiti personaliti "
       "teknikal praktikal kritikal elektrik muzium kerusi baharu mahu faham fikir betul bilakah "
       "sekiranya justeru manakala selepas semasa esok ogos julai disember mac ringgit lelaki kumpulan "
       "ahli rehat taraf kebajikan ibubapa tanggungjawab jantina samarata sama-rata maruah perisytiharan "
       "sejagat perbicaraan pendakwaan mendakwa bermastautin dilucutkan tertakluk penyeksaan diseksa "
       "perhambaan hamba kesaksamaan saksama persefahaman faedah sains kesusasteraan pengiktirafan "
       "sewajarnya bercanggah memusnahkan kewujudan wujud peringkat penjagaan balu kawalan upaya "
       "kesatuan sekerja pertubuhan persatuan semulajadi bahagian sebahagian mengundi undi sulit "
       "kehendak asas awam rahsia kerahsiaan ketenteraman beribadat ugama menerusi amat "
       "berhubung jabatan kementerian negeri bandaraya lapangan bola sepak biasiswa sijil "
       "pasaran pekerja-pekerja ibu-bapa perdana dato datuk tan sri yang di-pertuan agong malaysia "
       "selangor johor sabah sarawak kelantan terengganu pahang perak kedah melaka sembilan putrajaya "
       "kuala lumpur brunei singapura insya sila awak dahulu iaitu",
    2: "boleh beliau ialah berkata dikatakan ditemui menyatakan sebab oleh itu lebih kurang macam "
       "tak nak kalau cakap",
}
_ID = {
    3: "karena bahwa yaitu saja pemerintah gratis kantor pengadilan uang kejahatan anak-anak kesehatan "
       "pelayanan layanan informasi internasional perbatasan perkawinan menikah pikiran berpikir "
       "perbedaan berbeda manapun miliar triliun persen sekretaris parlemen pemilu kampanye proyek "
       "telepon televisi film musik olahraga kejuaraan pelatih pertandingan pariwisata wisatawan "
       "perusahaan karyawan toko mobil bis taksi dokter obat pasien perawat kecelakaan korban tentara "
       "mantan pernyataan universitas kualitas aktivitas komunitas identitas kepribadian teknis praktis "
       "kritis listrik museum kursi mau paham pikir benar kapan agar meskipun setelah sesudah besok "
       "kemarin agustus juli desember maret juni rupiah laki-laki kelompok anggota istirahat standar "
       "kesejahteraan orang tua martabat deklarasi perserikatan persamaan penuntutan penyiksaan disiksa "
       "perbudakan manfaat kesusastraan pengakuan selayaknya bertentangan merusak keberadaan tingkat "
       "perawatan janda kendali kontrol serikat organisasi alamiah bagian sebagian rahasia demokratis "
       "beribadah dinas departemen kabupaten kecamatan kelurahan provinsi bandara sepak bola indonesia "
       "jakarta surabaya bandung semarang yogyakarta makassar medan papua jawa bali sulawesi kalimantan "
       "polri tni dpr dprd kpk pemkot pemprov pemkab bupati walikota wali camat ujar ungkap tutur "
       "nggak gak enggak aja banget sih dong kok deh lho kayak gimana udah emang bikin pake gue gw "
       "lu loe bisa dari selanjutnya terkait sekitar misalnya",
    2: "harus dapat tetapi apabila sejumlah jadi dulu kamu depan",
}
_WEIGHTS: dict[str, float] = {}
for _weight, _words in _MS.items():
    for _w in _words.split():
        _WEIGHTS[_w] = float(_weight)
for _weight, _words in _ID.items():
    for _w in _words.split():
        _WEIGHTS[_w] = -float(_weight)
# Words shared by both standards (or parts of multiword entries above) carry no evidence; others
# are common in both but preferred by one: a weaker weight.
for _w in ("bola sepak yang di-pertuan tan sri perdana lapangan sembilan insya hamba amat dahulu negeri "
           "kementerian jabatan kalau tak macam cakap sebab oleh itu lebih kurang orang tua dapat tetapi "
           "apabila jadi kamu depan organisasi benar misalnya selanjutnya menyatakan dikatakan").split():
    _WEIGHTS.pop(_w, None)
_WEIGHTS.update({
    "beliau": 1.0, "berkata": 1.0, "ditemui": 1.0, "berhubung": 2.0, "semasa": 2.0, "datuk": 2.0, "wujud": 1.0,
    "dari": -1.0, "bisa": -2.0, "agar": -1.0, "harus": -1.0, "dulu": -1.0, "korban": -2.0, "informasi": -2.0,
    "kontrol": -2.0, "tingkat": -1.0, "anggota": -1.0, "kelompok": -2.0, "setelah": -1.0, "sesudah": -1.0,
    "besok": -2.0, "sekitar": -1.0, "terkait": -2.0, "layanan": -2.0, "pelayanan": -2.0, "menikah": -2.0,
    "saja": -2.0, "pemerintah": -2.0,
})
# Further Malay forms from the first draft of this list (written before any evaluation).
_WEIGHTS.update({w: 2.0 for w in (
    "nyawa perhimpunan had bermaksud jajahan sewenang-wenangnya menukar mengamal kerjasama bercuti rawatan "
    "ciptaan mesti hendak bila segelintir hadapan bersatu").split()})
# Corrections after reviewing the Indonesian/Malay confusions on the dev lines (recorded as such in the
# benchmark report): these words are standard Indonesian too (KBBI), with another sense or register:
# boleh (may), kerajaan (kingdom), pejabat (an official), semalam (last night), daripada (than),
# ramai (lively), asas (principle), hendak, sains, ciptaan, lelaki, datuk (Minang title), Singapura.
for _w in ("boleh", "kerajaan", "pejabat", "semalam", "daripada", "ramai", "asas", "hendak", "sains",
           "ciptaan", "lelaki", "datuk", "singapura"):
    _WEIGHTS[_w] = 0.5
# Second round, written from knowledge of the two standards (Kamus Dewan / KBBI, Malaysian and
# Indonesian news usage) BEFORE looking at any errors of this round. (a) Honest weights for words the
# first draft over-weighted although they are common in the other standard too, often with another
# sense: Indonesian mahkamah (Mahkamah Agung), upaya (effort), kesatuan (NKRI), peringkat (rank),
# perlawanan (resistance), bertentangan / persamaan / pertandingan (standard Malay too), ...
_WEIGHTS.update({
    "mahkamah": 0.5, "percuma": 1.0, "kereta": 1.0, "ahli": 1.0, "kumpulan": 2.0, "pasaran": 1.0, "bekas": 1.0,
    "kenyataan": 1.0, "mangsa": 2.0, "doktor": 2.0, "rehat": 2.0, "taraf": 1.0, "faedah": 2.0, "esok": 2.0,
    "persatuan": 1.0, "kesatuan": 0.0, "kebajikan": 2.0, "segelintir": 1.0, "hadapan": 0.5, "mesti": 1.0,
    "bila": 1.0, "bersatu": 0.0, "menukar": 1.0, "nyawa": 0.5, "perhimpunan": 1.0, "jajahan": 1.0,
    "bermaksud": 0.5, "sewenang-wenangnya": 1.0, "kerjasama": 0.5, "berhubung": 1.0, "upaya": -1.0,
    "peringkat": 1.0, "memusnahkan": 1.0, "sewajarnya": 2.0, "saksama": 1.0, "mendakwa": 1.0,
    "pendakwaan": 2.0, "perbicaraan": 2.0, "tanggungjawab": 1.0, "sekiranya": 2.0, "betul": 1.0,
    "perlawanan": 1.0, "sebarang": 2.0, "hendaklah": 2.0, "wang": 2.0, "ialah": 1.0, "ditemui": 0.5,
    "malaysia": 1.0, "brunei": 1.0, "kuala": 1.0, "lumpur": 0.5, "perak": 0.5, "melaka": 2.0, "sabah": 2.0,
    "sarawak": 2.0, "indonesia": -2.0, "saja": -1.5, "kejahatan": -2.0, "anak-anak": -1.0, "menikah": -1.5,
    "film": -2.0, "pelatih": -1.0, "pertandingan": 0.0, "perusahaan": -2.0, "korban": -1.0,
    "pernyataan": -2.0, "kritis": -2.0, "meskipun": -1.0, "laki-laki": -2.0, "kesejahteraan": -1.0,
    "martabat": -1.0, "persamaan": 0.0, "manfaat": -1.0, "pengakuan": -1.0, "selayaknya": -1.0,
    "bertentangan": 0.0, "perawatan": -2.0, "janda": -1.0, "beribadah": -2.0, "sejumlah": -1.0,
})
# (b) Further pairs: Malaysian spellings and words (+) against their Indonesian counterparts (-).
_WEIGHTS.update({w: 3.0 for w in (
    "polis jurutera setiausaha pengarah juruterbang jurucakap jurugambar belia agensi logik fizik "
    "matematik zon imej pakej bajet kenderaan pelaburan pelabur kewangan perniagaan peniaga cukai "
    "tempoh sempena bersempena serantau akhbar khabar makluman dimaklumkan memaklumkan perlembagaan "
    "peguam pendakwaraya disyaki kemaskini bimbit emel perisian berkongsi berjaya keupayaan mencuba "
    "cuba dicuba percubaan mesyuarat pingat rakaman isteri majlis gabenor basikal motosikal nombor "
    "inggeris perancis sepanyol itali jepun eropah pawagam isnin khamis jumaat jun peratusan "
    "kefahaman fahaman lawatan sesiapa").split()})
_WEIGHTS.update({w: 2.0 for w in (
    "puan melawat persidangan tiada kejayaan kongsi didakwa dakwaan pelakon petang ahad kelmarin "
    "warganegara suspek bapa mencadangkan rm").split()})
_WEIGHTS.update({w: 1.0 for w in (
    "bandar kos cadangan akta keselamatan rangkaian memandu pemandu pasukan peminat kawasan bilik "
    "budak penerangan berupaya bagaimanapun").split()})
_WEIGHTS.update({w: -3.0 for w in (
    "insinyur coba mencoba dicoba percobaan kepolisian gubernur sepeda tiongkok inggris prancis "
    "spanyol italia jepang eropa bioskop ponsel senin kamis jumat nomor wib wita rp justru fisika "
    "matematika investasi keuangan pajak daring rekaman medali istri majelis persentase tersangka "
    "kendaraan").split()})
_WEIGHTS.update({w: -2.0 for w in (
    "direktur logika zona paket biaya bisnis konferensi usulan jaringan menyetir olahragawan "
    "penggemar pemeran bapak berbagi kabar nasehat investor memperbarui silakan sore "
    "musyawarah bus kamar handphone").split()})
_WEIGHTS.update({w: -1.0 for w in (
    "polisi berhasil berbagai tim lingkungan anggaran pedagang penjualan kunjungan").split()})
# Word pairs: evidence the single words do not carry (or that cancels a single word's weight).
_BIGRAMS = {
    "dewan rakyat": 3.0, "orang ramai": 2.0, "bola sepak": 3.0, "sepak bola": -3.0, "lapangan terbang": 3.0,
    "luar negara": 3.0, "luar negeri": -2.0, "walau bagaimanapun": 2.0, "juru bicara": -3.0,
    "kerja sama": -1.0, "tanggung jawab": -1.0, "rumah sakit": -2.0, "kereta api": -1.0,
    "undangan negeri": 3.0, "ibu negara": 1.0, "amerika syarikat": 0.0,
}
# Third round, AFTER reviewing this round's errors (Malay dev lines -> id; Indonesian dev lines and the
# independent Indonesian NER dev text -> ms), so tuned on those lines and recorded as such:
# (a) Malay forms missing from the list: bahawasanya, menubuhkan, (meng/di)isytiharkan, saraan,
#     berfaedah, berucap, "berhak kepada" (Indonesian: berhak atas), "sama rata", "yang mana";
# (b) weights lowered, used in Indonesian news too: Perancis (older spelling), persidangan (court
#     session), teknikal, komoditi (older Indonesian spelling), manakala (formal "when"), selepas,
#     lawatan (away game).
_WEIGHTS.update({
    "bahawasanya": 3.0, "bahwasanya": -2.0, "menubuhkan": 3.0, "ditubuhkan": 3.0, "penubuhan": 3.0,
    "mengisytiharkan": 3.0, "diisytiharkan": 3.0, "isytihar": 3.0, "saraan": 3.0, "berfaedah": 2.0,
    "berucap": 2.0, "perancis": 1.0, "persidangan": 0.0, "teknikal": 2.0, "komoditi": 0.0,
    "manakala": 2.0, "selepas": 2.0, "lawatan": 1.0,
})
_BIGRAMS_AFTER_REVIEW = {"berhak kepada": 2.0, "sama rata": 2.0, "yang mana": 1.0, "berhak atas": -1.0}
_BIGRAMS.update(_BIGRAMS_AFTER_REVIEW)
# Fourth round (2026-12-03), written from knowledge of the two standards BEFORE looking at any error on the
# independent set (bench/data/langid-ms-id): everyday, school, health, media and government words where
# Malaysian and Indonesian usage part (kasut/sepatu, tandas/toilet, kes/kasus, pensyarah/dosen...). Words
# both standards use, even with another sense (pokok, pelan, rancangan, jendela, pohon), are left out.
_WEIGHTS.update({w: 3.0 for w in (
    "kasut seluar tandas setem poskad stesen membasuh dibasuh basuh selesema sudu pinggan cawan tingkap "
    "almari katil tilam pensel tayar lori petrol farmasi jiran berjiran kacak hodoh bising sentiasa beg "
    "cikgu darjah aiskrim pasaraya membeli-belah beritahu memberitahu diberitahu menghantar dihantar "
    "mesej lebuhraya bumbung lif seronok lazat berlakon lakonan terfikir pensyarah siswazah peperiksaan "
    "sukatan yuran percutian pembangkang jawatankuasa jawatan berhad sdn bhd reman kes pencen syiling "
    "wad jangkitan wabak kuarantin beza khuatir").split()})
_WEIGHTS.update({w: 2.0 for w in "risau lawa pelik tengok berkenaan".split()})
_WEIGHTS.update({w: 1.0 for w in "penat senyap bercakap malah sejuk pekan".split()})
_WEIGHTS.update({w: -3.0 for w in (
    "sepatu celana perangko stasiun pilek sendok piring cangkir lemari pensil truk bensin apotek "
    "tetangga capek ganteng jelek berisik terpikir nonton situs dosen pensiun kasus infeksi karantina "
    "beda panitia oposisi tbk").split()})
_WEIGHTS.update({w: -2.0 for w in "tas ranjang kasur khawatir senantiasa kalian wabah komite".split()})
_WEIGHTS.update({w: -1.0 for w in "toilet aneh acara kirim mengirim dikirim atap yakni sedangkan".split()})
_BIGRAMS.update({"sekolah rendah": 3.0, "sekolah dasar": -3.0, "menteri besar": 3.0, "ketua menteri": 3.0,
                 "dewan undangan": 3.0, "ahli parlimen": 3.0, "kerajaan negeri": 3.0, "balai polis": 3.0,
                 "laman web": 3.0, "oleh sebab": 2.0, "oleh karena": -3.0, "tengah hari": 1.0,
                 "makan siang": -2.0, "surat khabar": 3.0, "surat kabar": -3.0})
# Loanword endings: Malay -iti, Indonesian -itas (universiti/universitas, kualiti/kualitas, ...).
_TELITI = ("teliti", "neliti")  # "teliti" (careful; both standards), peneliti, meneliti: no loan ending


def _suffix_weight(word: str) -> float:
    if len(word) >= 7 and word.endswith("iti") and not word.endswith(_TELITI):
        return 2.0
    if len(word) >= 7 and word.endswith("itas"):
        return -2.0
    return 0.0


_SUFFIXES = ("nya", "lah", "kah", "pun")
PRIOR = -1.0  # log-odds for Malay before any evidence (negative: Indonesian)
MODEL_WEIGHT = 0.5  # how much of the base model's log-odds counts
WORD_WEIGHT = 1.0  # how much of the word-frequency evidence (msid_words.tsv.gz) counts
_WORDS_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "msid_words.tsv.gz")


@cache
def _word_ratios() -> dict[str, float]:
    """word -> log(f_ms / f_id) from wordfreq's Malay and Indonesian lists (bench/train_msid.py)."""
    ratios = {}
    with gzip.open(_WORDS_PATH, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                word, ratio = line.rstrip("\n").split("\t")
                ratios[word] = float(ratio)
    return ratios


def word_evidence(text: str) -> float:
    """Sum over the words of ``text`` of how much more often Malay than Indonesian writes them (log ratio)."""
    ratios = _word_ratios()
    return sum(ratios.get(word, 0.0) for word in _WORD_RE.findall(text.lower()))
_WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def malay_score(text: str) -> float:
    """Sum of lexicon weights over the words of ``text`` (> 0: Malay, < 0: Indonesian)."""
    total = 0.0
    words = _WORD_RE.findall(text.lower())
    for word in words:
        weight = _WEIGHTS.get(word)
        if weight is None and "-" in word:
            # reduplication (kanak-kanak is listed; others fall back to the base)
            weight = _WEIGHTS.get(word.split("-", 1)[0])
        if weight is None:  # enclitics: keputusannya, bolehlah, bilakah, sesiapapun
            for suffix in _SUFFIXES:
                if word.endswith(suffix) and len(word) > len(suffix) + 3:
                    weight = _WEIGHTS.get(word[: -len(suffix)])
                    break
        if weight is None:
            weight = _suffix_weight(word)
        if weight:
            total += weight
    for pair in zip(words, words[1:]):
        weight = _BIGRAMS.get(" ".join(pair))
        if weight:
            total += weight
    return total


def arbitrate(text: str, p_id: float, p_ms: float) -> tuple[str, float]:
    """Choose id or ms: lexicon evidence plus a damped prior from the base model's odds.

    Returns (language, probability of that choice). Without lexicon evidence Indonesian is the prior
    (far more Indonesian than Malay text is published; the base model over-predicts Malay).
    """
    model_odds = MODEL_WEIGHT * math.log((p_ms + 1e-3) / (p_id + 1e-3))
    score = malay_score(text) + WORD_WEIGHT * word_evidence(text) + model_odds + PRIOR
    p_ms_post = 1.0 / (1.0 + math.exp(-score))
    return ("ms", p_ms_post) if score > 0 else ("id", 1.0 - p_ms_post)
