# Le texte propre au formulaire d’enquête (GET /s/{token}), français.

page-title = Enquête
loading = Chargement de l’enquête…
noscript = Ce formulaire nécessite JavaScript.
sent-by = Envoyé par { $org }
privacy = Politique de confidentialité
valid-until = Vous pouvez répondre jusqu’au { $date }.
incentive =
    { $count ->
        [one] Répondez à cette enquête pour gagner { $points } point de fidélité.
        [many] Répondez à cette enquête pour gagner { $points } de points de fidélité.
       *[other] Répondez à cette enquête pour gagner { $points } points de fidélité.
    }
required = (obligatoire)
scale-low = Pas du tout satisfait
scale-high = Entièrement satisfait
nps-low = Pas du tout probable
nps-high = Extrêmement probable
submit = Envoyer mes réponses
sending = Envoi en cours…
back = Retour
next = Suivant
progress = Page { $page } sur { $pages }
answer-required = Veuillez répondre à cette question.
answer-invalid = Veuillez vérifier cette réponse.
choose-at-least =
    { $count ->
        [one] Choisissez au moins { $min } option.
       *[other] Choisissez au moins { $min } options.
    }
choose-at-most =
    { $count ->
        [one] Choisissez jusqu’à { $max } option.
       *[other] Choisissez jusqu’à { $max } options.
    }
choose-between = Choisissez de { $min } à { $max } options.
choose-exactly =
    { $count ->
        [one] Choisissez exactement { $min } option.
       *[other] Choisissez exactement { $min } options.
    }
check-question = Veuillez vérifier la question signalée.
check-answers = Veuillez vérifier vos réponses.
thanks = Merci pour votre avis !
thanks-points =
    { $count ->
        [one] Vous avez gagné { $points } point.
        [many] Vous avez gagné { $points } de points.
       *[other] Vous avez gagné { $points } points.
    }
error-invalid-token = Ce lien d’enquête n’est pas valide. Vérifiez que vous avez ouvert le lien complet de votre invitation.
error-token-expired = Cette invitation a expiré : il n’est plus possible de répondre à l’enquête.
error-already-submitted = Vous avez déjà répondu à cette enquête. Merci pour votre avis !
error-closed = Cette enquête est close et n’accepte plus de réponses.
error-rate-limited = Trop de tentatives depuis votre réseau. Veuillez patienter une minute, puis réessayer.
error-unavailable = Le service est très sollicité. Veuillez réessayer dans un instant.
error-timeout = Le service a mis trop de temps à répondre. Veuillez réessayer.
error-generic = Une erreur s’est produite. Veuillez réessayer plus tard.
error-network = Impossible de joindre le serveur. Vérifiez votre connexion, puis réessayez.
