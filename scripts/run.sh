#!/usr/bin/env bash
# Start the action server and the Rasa server on localhost; Ctrl-C stops both.
# Settings (environment): RASA_PORT (5005), ACTION_PORT (5055), HOST (127.0.0.1), MODEL.
# Rasa's HTTP API is off unless RASA_API_TOKEN is set (then on, with that token; keep HOST on
# localhost or a private interface). The action server always listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
HOST=${HOST:-127.0.0.1}
MODEL=${MODEL:-models/crs.tar.gz}
export RASA_TELEMETRY_ENABLED=false
mkdir -p .rasa
# endpoints.yml with the action server port in use
sed "s#http://localhost:5055/webhook#http://127.0.0.1:${ACTION_PORT}/webhook#" endpoints.yml > .rasa/endpoints.yml

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping the servers..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

api=()
if [ -n "${RASA_API_TOKEN:-}" ]; then
  api=(--enable-api --auth-token "$RASA_API_TOKEN")
  api_note="on, with the token in RASA_API_TOKEN (?token=...)"
else
  api_note="off (set RASA_API_TOKEN to turn it on, with that token)"
fi
if [ -z "${WIDGET_SESSION_SECRET:-}" ]; then
  echo "WIDGET_SESSION_SECRET is not set: widget conversations will not survive a restart (README: Access)." >&2
fi

# the action server through rasa_sdk itself: `rasa run actions` would import all of Rasa
# (TensorFlow included) into it for nothing (issue 13: 0.53 GB resident)
SANIC_HOST=127.0.0.1 .venv/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" &
pids+=($!)
.venv/bin/rasa run "${api[@]}" -m "$MODEL" --endpoints .rasa/endpoints.yml \
  --credentials credentials.yml -i "$HOST" --port "$RASA_PORT" &
pids+=($!)

for _ in $(seq 1 90); do
  if curl -sf "http://$HOST:$RASA_PORT/webhooks/rest/" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then echo "The Rasa server stopped; see the messages above." >&2; exit 1; fi
  sleep 2
done
if [ -n "${TWILIO_AUTH_TOKEN:-}" ] && [ -n "${SMS_ID_SECRET:-}" ]; then
  sms="http://$HOST:$RASA_PORT/webhooks/twilio/webhook (set TWILIO_WEBHOOK_URL to the public URL Twilio calls)"
else
  sms="off until TWILIO_AUTH_TOKEN and SMS_ID_SECRET are set (see README: SMS)"
fi
cat <<MSG

  The CRS assistant is running.
    REST channel:  http://$HOST:$RASA_PORT/webhooks/rest/webhook
      curl -s http://$HOST:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
           -d '{"sender": "me", "message": "what is CRS?"}'
    Chat widget demo page: http://$HOST:$RASA_PORT/webhooks/widget/demo.html
    Helpline console (nurses): http://$HOST:$RASA_PORT/webhooks/helpline/  (accounts: make nurse-add NURSE=<name>)
    In a terminal: make shell   (in another terminal, while this one runs)
    Action server: http://127.0.0.1:$ACTION_PORT/webhook (this machine only)
    Rasa HTTP API: $api_note
    SMS (Twilio):  $sms
  Press Ctrl-C to stop both servers.

MSG
wait -n "${pids[@]}"
