"""Vocabulary for the synthetic history generator (``bench.make_history``).

Two kinds of words are embedded here, so that the generator never reads files at run time:

* ``NEUTRAL_WORDS``: a few hundred everyday German words (written for this benchmark). None of them is
  a token of any lexicon term, lexicon variant or B-vector keyword, so neutral text never matches a
  lexicon by accident and the share of turns with lexicon hits is controlled by the generator alone.
  The list is ordered roughly by everyday frequency (the generator samples it Zipf-like).
* The lexicon terms of the metric catalogue (copied from the spec's ``lexika.csv``), the inflected
  variants of the safety lexica (``lexika_variants.csv``) and the B-vector keywords
  (``b_vector_keywords.csv``), one block each, in the format ``Name: term, term, ...`` (a name may
  span several lines). Weights are not needed here and are left out.

``crisis_pool()`` holds the crisis phrases (Suicide, Self_harm, Crisis, Help and their variants);
``general_pool()`` every other term, variant and keyword (minus anything in the crisis pool).
"""

from __future__ import annotations

from functools import cache

#: Lexica whose terms count as crisis phrases.
CRISIS_LEXICA: tuple[str, ...] = ("Suicide", "Self_harm", "Crisis", "Help")

_NEUTRAL_TEXT = """
und oder auf über vom beim seit bis gegen sie er wir man dort dann morgen gestern abends mittags
nachmittags vorhin bald später sehr etwas manchmal meistens selten häufig ziemlich eher fast
genauso ebenfalls vielleicht wahrscheinlich unser unsere euer seine ihre jeder jede jedes dieser
diese dieses jener welche welcher Haus Wohnung Küche Garten Fenster Tür Tisch Stuhl Sofa Regal
Lampe Teppich Balkon Keller Dach Treppe Flur Bad Dusche Spiegel Schrank Bett Kissen Decke
Vorhang Schlüssel Briefkasten Nachbar Nachbarin Hof Zaun Auto Fahrrad Bus Bahn Zug Straßenbahn
Haltestelle Bahnhof Fahrplan Ticket Strecke Ampel Kreuzung Brücke Straße Markt Laden Bäckerei
Supermarkt Apotheke Post Bank Rathaus Bibliothek Museum Kino Theater Park Wald Wiese See Fluss
Berg Hügel Strand Meer Insel Himmel Wolke Regen Schnee Sonne Wind Gewitter Nebelhorn Wetter
Frühling Sommer Herbst Winter Januar Februar März April Mai Juni Juli August September Oktober
November Dezember Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Wochenende Woche
Monat Jahr Stunde Minute Uhr Termin Kalender Frühstück Mittagessen Abendessen Kaffee Tee Wasser
Saft Milch Brot Brötchen Butter Käse Marmelade Honig Apfel Birne Banane Orange Tomate Gurke
Kartoffel Zwiebel Karotte Salat Suppe Nudeln Reis Kuchen Keks Schokolade Pfanne Topf Teller
Tasse Glas Löffel Gabel Messer Rezept Einkauf Einkaufsliste Rechnung Preis Euro Geldbörse Kasse
Quittung Arbeit Büro Kollege Kollegin Chef Besprechung Projekt Aufgabe Bericht Tabelle Dokument
Ordner Drucker Computer Laptop Bildschirm Tastatur Maus Telefon Handy Nachricht Anruf Mail Brief
Paket Adresse Formular Antrag Vertrag Frage Antwort Beispiel Liste Plan Idee Vorschlag Thema
Punkt Abschnitt Kapitel Seite Zeile Text Wort Satz Buch Zeitung Zeitschrift Artikel Geschichte
Roman Gedicht Bild Foto Kamera Musik Lied Konzert Gitarre Klavier Sport Fußball Tennis
Schwimmbad Lauf Spaziergang Ausflug Reise Urlaub Koffer Hotel Zimmer Karte Stadt Dorf Land Hund
Katze Vogel Pferd Fisch Blume Baum Rose Tulpe Pflanze Gras Beet Samen Gießkanne Schere Werkzeug
Hammer Nagel Farbe Rot Blau Grün Gelb Schwarz Grau Braun Holz Metall Stein Papier Stoff Wolle
Leder Hemd Hose Jacke Mantel Schuh Schuhe Socke Mütze Schal Handschuh Kleid Rock Pullover Tasche
Rucksack Schirm Freund Freundin Nachbarn Kollegen Gäste Besuch Geburtstag Feier Geschenk
Einladung Party Hochzeit Urlaubstag Sache Teilchen Menge Anzahl Größe Länge Breite Höhe Gewicht
Meter Kilometer Gramm Liter Prozent Hälfte Viertel kaufen verkaufen kochen backen essen trinken
schlafen aufstehen duschen fahren laufen gehen bleiben lesen schreiben rechnen zählen malen
singen spielen tanzen schwimmen wandern reisen besuchen wohnen putzen waschen bügeln aufräumen
einkaufen bezahlen bestellen liefern abholen holen tragen legen stellen setzen öffnen schließen
drucken speichern senden schicken antworten fragen erklären zeigen suchen finden planen beginnen
endet dauert passt klappt gefällt schmeckt riecht klingt scheint regnet schneit ging kam fuhr
las schrieb kochte aß trank schlief kaufte zahlte fand suchte zeigte sagte fragte plante groß
lang kurz breit schmal hoch niedrig schnell langsam warm kühl nass trocken hell dunkel laut
leise alt frisch teuer billig günstig schwer leicht voll halb rund eckig weich hart süß sauer
salzig scharf bunt sauber ordentlich praktisch bequem modern einfacher schwierig möglich nötig
pünktlich spät früh erste zweite dritte vierte fünfte letzte nächste andere weitere gleiche
verschiedene einige mehrere viele wenige eins zwei drei vier fünf sechs sieben acht neun zehn
elf zwölf zwanzig dreißig hundert tausend gestrige morgige täglich wöchentlich monatlich
jährlich pünktlicher demnächst inzwischen danach davor zwischendurch draußen drinnen oben unten
links rechts geradeaus nebenan gegenüber überall irgendwo nirgends
"""

_LEXICON_TEXT = """
B_empathy: anteilnahme, beistehen, da sein für, empathie, fühle mit, fürsorge, geborgen
B_empathy: gemeinsam, herzlich, ich verstehe, kann mir vorstellen, mitgefühl, nachvollziehen
B_empathy: trösten, unterstützen, verstehe dich, vertrauen, wärme, zusammen
B_past: als ich jung war, als ich klein war, als jugendlicher, als kind, als teenager
B_past: an der uni, bei meinem ersten job, bruder, damals, einst, eltern, erinnere mich
B_past: erinnern, erinnerung, familie, früher, früher einmal, großmutter, großvater, hatte
B_past: im kindergarten, in der grundschule, in der schule, in der vergangenheit, in meiner ehe
B_past: in meiner ersten beziehung, in meiner jugend, in meiner kindheit, kindheit, mein ex
B_past: mein exfreund, mein expartner, mein vater, meine eltern, meine ex, meine exfreundin
B_past: meine familie, meine mutter, mutter, nach der scheidung, oma, opa, schwester, vater
B_past: vergangenheit, vor der trennung, war, wurde, während des studiums
B_past: während meiner ausbildung
Coh_conn: aber, also, außerdem, daher, denn, deshalb, folglich, insgesamt, jedoch, konkret
Coh_conn: obwohl, somit, trotzdem, weil, zusammenfassend
Crisis: am ende, hoffnungslos, keine hoffnung, kollaps, krise, notfall, zerbreche, zusammenbruch
Emotion_neg: beschämt, einsam, frustriert, hasserfüllt, hilflos, schuldig, traurig, verzweifelt
Emotion_neg: wütend, ängstlich
Emotion_pos: begeistert, dankbar, erleichtert, freude, froh, geborgen, glücklich, liebe, stolz
Emotion_pos: zufrieden
Flow_neg: falsch, moment, nein, stimmt nicht, stop, unklar, verstehe nicht, verwirrt, warte
Flow_pos: genau, gut, ja, klar, mehr, okay, richtig, stimmt, verstanden, weiter
Help: bitte hilf, brauche jemanden, brauche unterstützung, es wird mir zu viel, hilf mir
Help: ich brauche hilfe, ich weiß nicht weiter, kannst du mir helfen
Kastasis_intent: brainstorm, brainstormen, gedankenexperiment, hypothetisch, ideen sammeln
Kastasis_intent: mal spinnen, nur so gedacht, sei kreativ, spinn mal, stell dir vor, theoretisch
Kastasis_intent: was wäre wenn
Lambda_depth: analyse, fundament, fundamental, grund, hintergrund, kern, kontext, nachdenken
Lambda_depth: reflexion, ursache, warum, weshalb, wieso, wofür, wozu, wurzel, zusammenhang
Lambda_depth: überlegung
Math_meta: ableitung, beweis, formel, funktion, gleichung, gradient, integral, kurve
Math_meta: logarithmus, matrix, sigma, vektor
Physics_meta: chaos, dämpfung, energie, feld, frequenz, impuls, kraft, oszillation, phase
Physics_meta: resonanz, thermodynamik
S_self: eigen, eigene, eigener, eigenes, ich, ich selbst, individuell, mein, meine, meinem
S_self: meinen, meiner, meines, mich, mich selbst, mir, mir selbst, persönlich, privat, selber
S_self: selbst, selbstbewusst, selbstbild, selbstkritisch, selbstvertrauen, selbstwert
Self_harm: mich schneiden, mich verbrennen, mich verletzen, mir wehtun, ritzen, selbstverletzung
Suicide: allen zur last, alles beenden, ausweglos, besser ohne mich, das leben beenden
Suicide: ein ende machen, ende machen, kein ausweg, keinen ausweg, mich umbringen
Suicide: nicht mehr leben, nicht mehr leben wollen, selbstmord, sterben wollen, suizid
Suicide: umbringen, wenn ich nicht mehr da wäre, wenn ich weg wäre, will sterben
T_disso: abgespalten, abgetrennt, alles weit weg, außerhalb von mir, beobachte mich
T_disso: bin nicht ich, blackout, entrückt, erinnerungslücke, erinnerungslücken, fremd im körper
T_disso: glaswand, innerlich taub, kann mich nicht erinnern, körperlos, losgelöst, nebel
T_disso: neben mir, neben mir stehen, nicht ich selbst, nicht mehr ich, schweben, surreal, taub
T_disso: unwirklich, verschwommen, weit weg, wie betäubt, wie ein roboter, wie im film
T_disso: wie im traum, zeit verloren, zeitlupe, zeitlücken
T_integ: akzeptanz, aushalten, bei mir, beruhigt sich, boden, boden unter den füßen
T_integ: damals ist nicht heute, das war damals, durchhalten, entspannt, ertragen
T_integ: es beruhigt sich, es darf da sein, es ist jetzt vorbei, es wird ruhiger, geerdet
T_integ: gehört zu mir, gelernt, geordnet, gewachsen, heilen, heilung, ich akzeptiere
T_integ: ich bleibe bei mir, ich halte es aus, ich kann es halten, ich kann wieder atmen
T_integ: ich schaffe das, integriert, jetzt ist jetzt, klar, klarer, resilient, resilienz, ruhe
T_integ: ruhiger, stabil, standhalten, stärker geworden, teil von mir, verankert, überwunden
T_panic: alles zu viel, angst, atemnot, brustenge, brustschmerz, ersticke, ersticken, fliehen
T_panic: halt es nicht aus, herz rast, herzrasen, hilfe, ich dreh durch, kann nicht atmen
T_panic: kann nicht mehr, keine luft, kontrollverlust, kribbeln, panik, panikattacke, raus hier
T_panic: schreien, schwindel, schwindelig, schwitzen, taubheit, todesangst, unter strom
T_panic: verliere verstand, völlig überfordert, weglaufen, werde verrückt, zittere, zittern
T_panic: überfordert, überwältigt
T_shock: abgestorben, automatisch, blockiert, eingefroren, erstarrt, fassungslos
T_shock: funktioniere nur noch, gelähmt, geschockt, kalt innen, schock, sprachlos, stumm
T_shock: tot innen, ungläubig, wie betäubt, zombie
X_exist: allen zur last, anwesend, aufhören zu existieren, bedeutungslos, besser ohne mich
X_exist: dasein, eine last, existenz, existieren, fühlen, hohle hülle, innere leere, kein sinn
X_exist: keinen platz, leben, lebenssinn, lebenswert, lebenszweck, leer, nicht da sein
X_exist: nicht dazu gehören, nicht dazugehören, nicht gut genug, nicht mehr leben
X_exist: nicht mehr sein, nichts wert, niemand würde es merken, niemand würde merken, nutzlos
X_exist: ohne ziel, präsent, real, realität, sinn, sinnlos, spurlos, spüren, sterben
X_exist: sterben wollen, tod, unsichtbar, vergessen werden, versager, verschwinden, warum noch
X_exist: was ich bin, weg sein, wer ich bin, wertlos, will nicht mehr, wirklichkeit, wozu
X_exist: wozu noch, zwecklos, überflüssig
ZLF: drehen uns im kreis, fang neu an, ignoriere, ignoriere das, immer wieder
ZLF: kommen nicht weiter, lösche das, neu anfangen, neu starten, noch einmal, noch mal, nochmal
ZLF: reset, schon wieder, starte neu, streiche das, vergiss, vergiss das, von vorn, von vorne
ZLF: wie oft noch, wiederhole, wiederholen, zum x-ten mal
"""

_VARIANT_TEXT = """
Suicide: allen nur zur last, allen nur noch zur last, alles zu beenden, beende alles
Suicide: alles beende, beende ich alles, alles einfach beenden, ausweglose, ausweglosen
Suicide: auswegloser, ausweglosem, ausweglosigkeit, ohne mich besser, besser dran ohne mich
Suicide: das leben zu beenden, mein leben beenden, mein leben zu beenden, mein leben beende
Suicide: beende mein leben, mein leben beendet, sein leben beenden, sein leben zu beenden
Suicide: ihr leben beenden, ihr leben zu beenden, ein ende zu machen, ein ende mache
Suicide: ein ende gemacht, ende zu machen, ende mache, keine auswege, mich umzubringen
Suicide: mich umbringe, bringe mich um, bring mich um, bringe ich mich um, bring ich mich um
Suicide: mich umgebracht, mich um bringen, mich umbring, mich selbst umbringen
Suicide: mich selbst umzubringen, umzubringen, umgebracht, umbring, sich umbringt
Suicide: bringt sich um, brachte sich um, dich umbringst, uns umzubringen, nicht mehr zu leben
Suicide: will nicht mehr leben, möchte nicht mehr leben, wollte nicht mehr leben
Suicide: mag nicht mehr leben, nicht mehr leben will, nicht mehr leben möchte
Suicide: nicht mehr leben wollte, nicht mehr leben zu wollen, willst nicht mehr leben
Suicide: will einfach nicht mehr leben, selbstmordgedanken, selbstmordgedanke, selbstmordversuch
Suicide: selbstmordversuche, selbstmordabsichten, selbstmordgefährdet, selbstmorde, selbstmords
Suicide: suizidgedanken, suizidgedanke, suizidversuch, suizidversuche, suizidabsichten
Suicide: suizidgefährdet, suizidal, suizidale, suizidalen, suizidaler, suizidales, suizidalem
Suicide: suizidalität, suizide, suizids, wollte sterben, möchte sterben, würde gern sterben
Suicide: würde gerne sterben, sterben möchte, sterben wollte, sterben zu wollen
Suicide: möchte einfach sterben, willst sterben, sterben will, sterben willst
Suicide: will nur noch sterben, will einfach sterben, will einfach nur sterben, will nur sterben
Suicide: wenn ich nicht mehr da wär, wenn ich nicht mehr da waere, wäre ich nicht mehr da
Suicide: wenn ich einfach nicht mehr da wäre, wenn ich weg wär, wenn ich weg waere
Suicide: wenn ich einfach weg wäre, wenn ich für immer weg wäre
Self_harm: ritze, ritzt, ritzte, ritzten, geritzt, zu ritzen, ritz mich, schneide mich
Self_harm: schneid mich, mich geschnitten, mich zu schneiden, mich selbst schneiden
Self_harm: mich selbst geschnitten, verletze mich, mich zu verletzen, mich selbst verletzen
Self_harm: mich selbst verletzt, mich selbst zu verletzen, mich selber verletzen
Self_harm: mich selber verletzt, mich selbstverletzt, verbrenne mich, mich verbrannt
Self_harm: mich zu verbrennen, mich selbst verbrannt, mir weh tun, tue mir weh, tu mir weh
Self_harm: mir wehzutun, mir weh zu tun, mir selbst wehtun, mir selbst weh tun
Self_harm: mir selbst wehgetan, mir selbst weh getan, mir selber wehtun, mir selbst wehzutun
Self_harm: habe mir wehgetan, hab mir wehgetan, selbstverletzungen, selbstverletzend
Self_harm: selbstverletzende, selbstverletzendes, selbstverletzenden, selbstverletzender
Self_harm: selbstverletzungsdruck, svv
Crisis: hoffnungslose, hoffnungslosen, hoffnungsloser, hoffnungsloses, hoffnungslosem
Crisis: hoffnungslosigkeit, kollapse, kollapses, kollabiere, kollabiert, kollabierte
Crisis: kollabieren, krisen, notfälle, notfällen, zerbrech, bin zerbrochen, innerlich zerbrochen
Crisis: daran zerbrochen, daran zerbrechen, werde zerbrechen, zerbricht daran, daran zerbricht
Crisis: zerbrach daran, zusammenbrüche, zusammenbrüchen, zusammenbruchs, nervenzusammenbruch
Crisis: zusammengebrochen, breche zusammen, brach zusammen, bricht zusammen, zusammenzubrechen
Crisis: zusammenbrechen, zusammenbreche
T_panic: alles zuviel, alles viel zu viel, alles einfach zu viel, ängste, ängsten
T_panic: enge in der brust, brustschmerzen, schmerzen in der brust, schmerz in der brust
T_panic: erstick, zu ersticken, erstickungsgefühl, erstickungsangst, fliehe, flieh, zu fliehen
T_panic: halte es nicht aus, halt es nicht mehr aus, halte es nicht mehr aus
T_panic: halte das nicht aus, halt das nicht aus, halte das nicht mehr aus
T_panic: halt das nicht mehr aus, halts nicht aus, halts nicht mehr aus, halt s nicht aus
T_panic: halt s nicht mehr aus, hielt es nicht aus, hielt es nicht mehr aus
T_panic: es nicht mehr aushalten, es nicht aushalten, das nicht mehr aushalten
T_panic: halte es kaum aus, herz raste, herz rasen, herz am rasen, rasendes herz
T_panic: rasendem herzen, rast mein herz, raste mein herz, ich drehe durch, drehe durch
T_panic: dreh durch, ich dreh gleich durch, ich drehe gleich durch, ich dreh noch durch
T_panic: ich drehe noch durch, drehe völlig durch, dreh völlig durch, am durchdrehen
T_panic: durchzudrehen, bin durchgedreht, drehte durch, kann kaum atmen, konnte nicht atmen
T_panic: konnte kaum atmen, kann nicht mehr atmen, kann nicht richtig atmen, nicht atmen kann
T_panic: nicht atmen konnte, kaum atmen kann, kann einfach nicht mehr, kann echt nicht mehr
T_panic: kann nich mehr, konnte nicht mehr, nicht mehr kann, verliere die kontrolle
T_panic: die kontrolle verlieren, die kontrolle zu verlieren, die kontrolle verloren
T_panic: verlor die kontrolle, panisch, panische, panischen, panischer, panisches, panikanfall
T_panic: panikanfälle, panikstörung, panikgefühl, panikgefühle, panikattacken, panik attacke
T_panic: panik attacken, muss hier raus, will hier raus, schreie, zu schreien, schwindelanfall
T_panic: schwindelanfälle, schwindelgefühl, schwindelgefühle, schwindlig, taubheitsgefühl
T_panic: taubheitsgefühle, todesängste, todesängsten, verliere den verstand
T_panic: verliere meinen verstand, verliere noch den verstand, den verstand verlieren
T_panic: den verstand zu verlieren, meinen verstand verlieren, meinen verstand zu verlieren
T_panic: meinen verstand verloren, verlor den verstand, völlige überforderung, laufe weg
T_panic: wegzulaufen, verrückt zu werden, werd verrückt, werde noch verrückt, werd noch verrückt
T_panic: verrückt werde, verrückt werden, zitterte, zitter, zittert, gezittert, zitternd
T_panic: zittrig, zitterig, überforderung, überfordern mich, überwältigen mich
T_disso: abgespaltet, spalte mich ab, abgespaltene, abgespaltenen, abgespaltener, abgespaltenes
T_disso: ausserhalb von mir, mich selbst beobachten, mich selbst beobachte
T_disso: mich von außen beobachten, beobachtete mich selbst, blackouts, black out, entrückte
T_disso: entrückten, entrückter, entrücktes, fremd im eigenen körper, fremd in meinem körper
T_disso: im eigenen körper fremd, in meinem körper fremd, im körper fremd, glaswände
T_disso: innerlich ganz taub, innerlich völlig taub, konnte mich nicht erinnern
T_disso: kann mich nicht mehr erinnern, kann mich an nichts erinnern
T_disso: kann mich an nichts mehr erinnern, mich nicht erinnern kann, mich nicht erinnern konnte
T_disso: körperlose, körperlosen, körperloser, körperloses, losgelöste, losgelösten, losgelöster
T_disso: stehe neben mir, neben mir stehe, stehe total neben mir, stehe völlig neben mir
T_disso: stehe komplett neben mir, stand total neben mir, stand völlig neben mir
T_disso: neben sich stehen, steht neben sich, stand neben sich, nicht ich selber, schwebe
T_disso: surreale, surrealen, surrealer, surreales, unwirkliche, unwirklichen, unwirklicher
T_disso: unwirkliches, unwirklichem, wie so ein roboter, wie in einem film, wie in nem film
T_disso: wie in einem traum, wie in nem traum, verliere zeit, zeit verliere, zeitlücke
T_shock: friere ein, fror ein, erstarre, erstarrte, erstarren, fassungslose, fassungslosen
T_shock: fassungsloser, fassungslosigkeit, funktionier nur noch, nur noch funktioniere
T_shock: habe nur noch funktioniert, hab nur noch funktioniert, lähmt mich, lähmte mich
T_shock: schockiert, schockierte, innen kalt, innerlich kalt, schocks, schockzustand
T_shock: schockstarre, sprachlosigkeit, innen tot, innerlich tot
"""

_B_VECTOR_TEXT = """
B_life: leben, lebenswille, lebensfreude, will leben, lebe gerne
B_truth: wahrheit, ehrlich, echt, wirklich, authentisch
B_depth: warum, tief, grundlegend, bedeutung, sinn
B_init: will, werde, mache, initiative, handle
B_warmth: wärme, geborgen, vertrauen, liebe, mitgefühl
B_safety: sicher, schutz, geborgen, stabil, halt
B_clarity: klar, klarheit, deutlich, verstehe, eindeutig
"""


def _parse_block(text: str) -> dict[str, tuple[str, ...]]:
    """Parse ``Name: term, term`` lines into ``{name: terms}`` (order kept, names may repeat)."""
    out: dict[str, list[str]] = {}
    for line in text.strip().splitlines():
        name, _, rest = line.partition(":")
        terms = [t.strip() for t in rest.split(",") if t.strip()]
        out.setdefault(name.strip(), []).extend(terms)
    return {name: tuple(terms) for name, terms in out.items()}


#: Everyday German words, most frequent first (neutral: no lexicon token among them).
NEUTRAL_WORDS: tuple[str, ...] = tuple(_NEUTRAL_TEXT.split())

#: ``{lexicon: terms}`` for the 22 lexica of the metric catalogue (all 451 terms).
LEXICON_TERMS: dict[str, tuple[str, ...]] = _parse_block(_LEXICON_TEXT)

#: ``{lexicon: variants}``: inflections and word orders of the safety lexica's terms.
LEXICON_VARIANTS: dict[str, tuple[str, ...]] = _parse_block(_VARIANT_TEXT)

#: ``{dimension: keywords}`` of the B-vector keyword lists.
B_VECTOR_KEYWORDS: dict[str, tuple[str, ...]] = _parse_block(_B_VECTOR_TEXT)


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@cache
def crisis_pool() -> tuple[str, ...]:
    """Crisis phrases: terms and variants of Suicide, Self_harm, Crisis and Help (no duplicates)."""
    items: list[str] = []
    for name in CRISIS_LEXICA:
        items += LEXICON_TERMS.get(name, ())
        items += LEXICON_VARIANTS.get(name, ())
    return _unique(items)


@cache
def general_pool() -> tuple[str, ...]:
    """Every other lexicon term, variant and B-vector keyword (nothing from ``crisis_pool``)."""
    crisis = set(crisis_pool())
    items: list[str] = []
    for name, terms in LEXICON_TERMS.items():
        if name not in CRISIS_LEXICA:
            items += terms
    for name, terms in LEXICON_VARIANTS.items():
        if name not in CRISIS_LEXICA:
            items += terms
    for terms in B_VECTOR_KEYWORDS.values():
        items += terms
    return tuple(t for t in _unique(items) if t not in crisis)
