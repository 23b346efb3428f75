// The desktop: start a task, watch its events arrive over /ws. Relative URLs only, so the page works
// at / (live) and behind the hypervisor's /dev/ prefix alike.
const desktopId = 'desktop-main';
const form = document.getElementById('task-form');
const objectiveInput = document.getElementById('objective');
const errorBox = document.getElementById('task-error');
const connection = document.getElementById('connection');
const roleView = document.querySelector('[data-testid="sandbox-role"]');
const statusView = document.querySelector('[data-testid="run-status"]');
const eventsView = document.querySelector('[data-testid="run-events"]');
const resultView = document.querySelector('[data-testid="run-result"]');

let currentRunId;
const earlyEvents = [];

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function addEvent(event) {
  const item = document.createElement('li');
  const detail = event.step ? ` step ${event.step.index}/${event.step.total} ${event.step.name}` : '';
  item.textContent = `${event.type} ${event.status}${detail}`;
  eventsView.append(item);
}

async function showResult(runId) {
  const response = await fetch(`conductor/runs/${encodeURIComponent(runId)}/document`);
  if (!response.ok) return showError(`could not load the document (HTTP ${response.status})`);
  const document_ = await response.json();
  const path = document.createElement('p');
  path.textContent = `Document: ${document_.path}`;
  const text = document.createElement('pre');
  text.textContent = document_.content;
  resultView.replaceChildren(path, text);
}

function onRunEvent(event) {
  if (event.run_id !== currentRunId) return;
  addEvent(event);
  statusView.textContent = event.status;
  if (event.type === 'conductor.run.completed') void showResult(event.run_id);
  if (event.type === 'conductor.run.failed') resultView.textContent = `Failed: ${event.error.code}: ${event.error.message}`;
}

function connect() {
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'subscribe', desktop_id: desktopId })));
  socket.addEventListener('message', (message) => {
    const event = JSON.parse(message.data);
    if (event.type === 'desktop_state') connection.textContent = 'connected';
    else if (event.type === 'error') showError(event.message);
    else if (event.type.startsWith('conductor.run.')) {
      if (currentRunId === undefined) earlyEvents.push(event);
      else onRunEvent(event);
    }
  });
  socket.addEventListener('close', () => {
    connection.textContent = 'disconnected; reconnecting';
    setTimeout(connect, 1000);
  });
}

async function loadRole() {
  const response = await fetch('desktop/health');
  if (response.ok) roleView.textContent = (await response.json()).instance_role;
}

form.addEventListener('submit', async (submit) => {
  submit.preventDefault();
  errorBox.hidden = true;
  eventsView.replaceChildren();
  resultView.replaceChildren();
  currentRunId = undefined;
  earlyEvents.length = 0;
  statusView.textContent = 'starting';
  const response = await fetch('conductor/execute', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ objective: objectiveInput.value, desktop_id: desktopId }),
  });
  const body = await response.json();
  if (!response.ok) {
    statusView.textContent = 'refused';
    return showError(body.error);
  }
  currentRunId = body.run_id;
  statusView.textContent = body.status;
  // Events that raced ahead of the POST's answer belong to this run or to none we show.
  for (const event of earlyEvents.splice(0)) onRunEvent(event);
});

connect();
void loadRole();
