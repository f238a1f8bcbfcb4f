local function make_task(id, priority, run)
  return {id = id, priority = priority, run = run, queue = {}, head = 0, count = 0, sum = 0}
end
local function worker(t, packet)
  local data = packet.data
  local acc = 0
  for i = 1, #data do
    data[i] = (data[i] * 7 + t.id) % 1009
    acc = acc + data[i]
  end
  t.sum = (t.sum + acc) % 1000003
  t.count = t.count + 1
  return (t.id + acc) % 8
end
local function handler(t, packet)
  t.count = t.count + 1
  packet.hops = packet.hops + 1
  t.sum = (t.sum + packet.hops) % 1000003
  return (t.id * 3 + packet.hops) % 8
end
local function device(t, packet)
  t.count = t.count + 1
  local data = packet.data
  local last = data[#data]
  data[#data] = nil
  table.insert(data, 1, last)
  return (last + t.id) % 8
end
local tasks = {}
for id = 0, 7 do
  local run = worker
  if id % 3 == 1 then run = handler end
  if id % 3 == 2 then run = device end
  tasks[id] = make_task(id, (id * 5) % 8, run)
end
for i = 0, 39 do
  local packet = {kind = i % 3, hops = 0, data = {i, i + 1, i + 2, i + 3, i + 4, i + 5}}
  local q = tasks[i % 8].queue
  q[#q + 1] = packet
end
local function pick()
  local best = nil
  for id = 0, 7 do
    local t = tasks[id]
    if t.head < #t.queue and (best == nil or t.priority > best.priority) then best = t end
  end
  return best
end
for step = 0, 599999 do
  local t = pick()
  local packet = t.queue[t.head + 1]
  t.head = t.head + 1
  if t.head > 64 then
    t.queue = table.move(t.queue, t.head + 1, #t.queue, 1, {})
    t.head = 0
  end
  local dest = t.run(t, packet)
  local q = tasks[dest].queue
  q[#q + 1] = packet
end
local checksum = 0
for id = 0, 7 do
  local t = tasks[id]
  checksum = (checksum * 31 + t.count * 7 + t.sum) % 1000000007
end
print(checksum)
