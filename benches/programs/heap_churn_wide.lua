-- heap_churn_wide.ark in Lua: the harness (benches/heap_churn.rs) prepends
-- the values of RECORDS and ROUNDS.
local records = {}
local seed = 777
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end
local function record(i)
  return {
    name = "unit-" .. tostring(i),
    pos = {i, i + 1, i + 2, i + 3, i + 4, i + 5},
    stats = {hp = i, mp = i * 2, atk = 3, def = 4, spd = 5, luck = 6},
    tag = tostring(i % 97),
  }
end
for i = 0, RECORDS - 1 do records[i + 1] = record(i) end
for round = 0, ROUNDS - 1 do
  for k = 0, 999 do
    records[rand(RECORDS) + 1] = record(round * 1000 + k)
  end
end
local total = 0
for _, r in ipairs(records) do total = total + r.stats.hp % 7 end
print(total)
