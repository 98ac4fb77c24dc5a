# Der eigene Text des Umfrageformulars (GET /s/{token}), Deutsch.

page-title = Umfrage
loading = Die Umfrage wird geladen…
noscript = Für dieses Formular muss JavaScript aktiviert sein.
sent-by = Gesendet von { $org }
privacy = Datenschutzhinweis
valid-until = Sie können bis zum { $date } antworten.
incentive =
    { $count ->
        [one] Beantworten Sie diese Umfrage und erhalten Sie { $points } Treuepunkt.
       *[other] Beantworten Sie diese Umfrage und erhalten Sie { $points } Treuepunkte.
    }
required = (Pflichtfrage)
scale-low = Nicht zufrieden
scale-high = Voll und ganz zufrieden
nps-low = Überhaupt nicht wahrscheinlich
nps-high = Äußerst wahrscheinlich
submit = Antworten senden
sending = Wird gesendet…
back = Zurück
next = Weiter
progress = Seite { $page } von { $pages }
answer-required = Bitte beantworten Sie diese Frage.
answer-invalid = Bitte prüfen Sie diese Antwort.
choose-at-least =
    { $count ->
        [one] Wählen Sie mindestens { $min } Option.
       *[other] Wählen Sie mindestens { $min } Optionen.
    }
choose-at-most =
    { $count ->
        [one] Wählen Sie höchstens { $max } Option.
       *[other] Wählen Sie höchstens { $max } Optionen.
    }
choose-between = Wählen Sie { $min } bis { $max } Optionen.
choose-exactly =
    { $count ->
        [one] Wählen Sie genau { $min } Option.
       *[other] Wählen Sie genau { $min } Optionen.
    }
check-question = Bitte prüfen Sie die markierte Frage.
check-answers = Bitte prüfen Sie Ihre Antworten.
thanks = Vielen Dank für Ihr Feedback!
thanks-points =
    { $count ->
        [one] Sie haben { $points } Punkt erhalten.
       *[other] Sie haben { $points } Punkte erhalten.
    }
error-invalid-token = Dieser Umfragelink ist ungültig. Bitte prüfen Sie, ob Sie den vollständigen Link aus Ihrer Einladung geöffnet haben.
error-token-expired = Diese Einladung ist abgelaufen, die Umfrage kann nicht mehr beantwortet werden.
error-already-submitted = Sie haben diese Umfrage bereits beantwortet. Vielen Dank für Ihr Feedback!
error-closed = Diese Umfrage ist geschlossen und nimmt keine Antworten mehr an.
error-rate-limited = Zu viele Versuche aus Ihrem Netzwerk. Bitte warten Sie eine Minute und versuchen Sie es erneut.
error-unavailable = Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.
error-timeout = Der Dienst hat zu lange gebraucht. Bitte versuchen Sie es erneut.
error-generic = Etwas ist schiefgelaufen. Bitte versuchen Sie es später erneut.
error-network = Der Server ist nicht erreichbar. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.
