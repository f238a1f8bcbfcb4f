-- heap_churn.ark in Lua: the harness (benches/heap_churn.rs) prepends
-- the values of RECORDS and ROUNDS.
local records = {}
local seed = 12345
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end
local function record(i)
  return {name = "r" .. tostring(i), pos = {i, i * 2}, hp = i}
end
for i = 0, RECORDS - 1 do records[i + 1] = record(i) end
for round = 0, ROUNDS - 1 do
  for k = 0, 999 do
    records[rand(RECORDS) + 1] = record(round * 1000 + k)
  end
end
local total = 0
for _, r in ipairs(records) do total = total + r.hp % 7 end
print(total)
