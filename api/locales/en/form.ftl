# The survey form page's own text (GET /s/{token}), English: the fallback
# for every other locale. Variables: $org (organisation name), $date (a date
# formatted by the browser), $points (a number formatted by the browser),
# $count (selects the plural form of $points, or of $min or $max), $page and
# $pages (numbers formatted by the browser: the page shown and how many there
# are), and $min and $max (numbers formatted by the browser: the fewest and
# most options a multiple-choice question takes).

page-title = Survey
loading = Loading the survey…
noscript = This form needs JavaScript enabled.
sent-by = Sent by { $org }
privacy = Privacy notice
valid-until = You can answer until { $date }.
incentive =
    { $count ->
        [one] Answer this survey to earn { $points } loyalty point.
       *[other] Answer this survey to earn { $points } loyalty points.
    }
required = (required)
scale-low = Not satisfied
scale-high = Completely satisfied
nps-low = Not at all likely
nps-high = Extremely likely
submit = Send my answers
sending = Sending…
back = Back
next = Next
progress = Page { $page } of { $pages }
answer-required = Please answer this question.
answer-invalid = Please check this answer.
choose-at-least =
    { $count ->
        [one] Choose at least { $min } option.
       *[other] Choose at least { $min } options.
    }
choose-at-most =
    { $count ->
        [one] Choose up to { $max } option.
       *[other] Choose up to { $max } options.
    }
choose-between = Choose { $min } to { $max } options.
choose-exactly =
    { $count ->
        [one] Choose exactly { $min } option.
       *[other] Choose exactly { $min } options.
    }
check-question = Please check the highlighted question.
check-answers = Please check your answers.
thanks = Thank you for your feedback!
thanks-points =
    { $count ->
        [one] You earned { $points } point.
       *[other] You earned { $points } points.
    }
error-invalid-token = This survey link is not valid. Please check that you opened the whole link from your invitation.
error-token-expired = This invitation has expired, so the survey can no longer be answered.
error-already-submitted = You have already answered this survey. Thank you for your feedback!
error-closed = This survey is closed and no longer accepts answers.
error-rate-limited = Too many attempts from your network. Please wait a minute and try again.
error-unavailable = The service is busy right now. Please try again in a moment.
error-timeout = The service took too long to answer. Please try again.
error-generic = Something went wrong. Please try again later.
error-network = Could not reach the server. Please check your connection and try again.
