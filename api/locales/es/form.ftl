# El texto propio del formulario de encuesta (GET /s/{token}), español.

page-title = Encuesta
loading = Cargando la encuesta…
noscript = Este formulario necesita JavaScript.
sent-by = Enviado por { $org }
privacy = Aviso de privacidad
valid-until = Puede responder hasta el { $date }.
incentive =
    { $count ->
        [one] Responda a esta encuesta y gane { $points } punto de fidelidad.
        [many] Responda a esta encuesta y gane { $points } de puntos de fidelidad.
       *[other] Responda a esta encuesta y gane { $points } puntos de fidelidad.
    }
required = (obligatoria)
scale-low = Nada satisfecho
scale-high = Totalmente satisfecho
nps-low = Nada probable
nps-high = Extremadamente probable
submit = Enviar mis respuestas
sending = Enviando…
back = Atrás
next = Siguiente
progress = Página { $page } de { $pages }
answer-required = Responda a esta pregunta.
answer-invalid = Revise esta respuesta.
choose-at-least =
    { $count ->
        [one] Elija al menos { $min } opción.
       *[other] Elija al menos { $min } opciones.
    }
choose-at-most =
    { $count ->
        [one] Elija hasta { $max } opción.
       *[other] Elija hasta { $max } opciones.
    }
choose-between = Elija entre { $min } y { $max } opciones.
choose-exactly =
    { $count ->
        [one] Elija exactamente { $min } opción.
       *[other] Elija exactamente { $min } opciones.
    }
check-question = Revise la pregunta señalada.
check-answers = Revise sus respuestas.
thanks = ¡Gracias por su opinión!
thanks-points =
    { $count ->
        [one] Ha ganado { $points } punto.
        [many] Ha ganado { $points } de puntos.
       *[other] Ha ganado { $points } puntos.
    }
error-invalid-token = Este enlace de encuesta no es válido. Compruebe que ha abierto el enlace completo de su invitación.
error-token-expired = Esta invitación ha caducado y ya no se puede responder a la encuesta.
error-already-submitted = Ya ha respondido a esta encuesta. ¡Gracias por su opinión!
error-closed = Esta encuesta está cerrada y ya no acepta respuestas.
error-rate-limited = Demasiados intentos desde su red. Espere un minuto y vuelva a intentarlo.
error-unavailable = El servicio está ocupado en este momento. Vuelva a intentarlo en un momento.
error-timeout = El servicio tardó demasiado en responder. Vuelva a intentarlo.
error-generic = Algo salió mal. Vuelva a intentarlo más tarde.
error-network = No se pudo contactar con el servidor. Compruebe su conexión y vuelva a intentarlo.
