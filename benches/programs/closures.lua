local function map(list, f)
  local out = {}
  for i = 1, #list do out[i] = f(list[i]) end
  return out
end
local function filter(list, f)
  local out = {}
  local n = 0
  for i = 1, #list do
    local x = list[i]
    if f(x) then n = n + 1; out[n] = x end
  end
  return out
end
local function reduce(list, f, init)
  local acc = init
  for i = 1, #list do acc = f(acc, list[i]) end
  return acc
end
local items = {}
for i = 0, 999 do items[i + 1] = i end
local total = 0
for round = 0, 1999 do
  local k = round % 7
  local mapped = map(items, function(x) return x * k + round end)
  local kept = filter(mapped, function(x) return x % 3 ~= 0 end)
  total = total + reduce(kept, function(a, b) return a + b % 1000 end, 0)
end
print(total)
