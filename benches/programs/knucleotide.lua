-- knucleotide: the same algorithm as knucleotide.ark (Lua strings are 1-based).
local seed = 7
-- Products stay below 2^53: Luau's numbers are doubles.
local function rnd() seed = (seed * 16807) % 2147483647; return seed end
local bases = {"A", "C", "G", "T"}
local parts = {}
for i = 1, 300000 do parts[#parts + 1] = bases[(rnd() // 8) % 4 + 1] end
local dna = table.concat(parts)
local total = 0
for k = 1, 6 do
  local counts = {}
  local n = #dna - k + 1
  for i = 1, n do
    local sub = string.sub(dna, i, i + k - 1)
    local c = counts[sub]
    if c == nil then counts[sub] = 1 else counts[sub] = c + 1 end
  end
  local best, nk = 0, 0
  for key, v in pairs(counts) do nk = nk + 1; if v > best then best = v end end
  total = total + best * k + nk
end
print(total)
