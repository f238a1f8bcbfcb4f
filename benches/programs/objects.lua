-- objects: "classes" as tables of functions, each object naming its class;
-- methods called through a field with the object passed in.
local Counter = {}
Counter.new = function(start) return {cls = Counter, n = start, hits = 0} end
Counter.step = function(me, by) me.n = me.n + by; me.hits = me.hits + 1; return me.n end
local Doubler = {}
Doubler.new = function(start) return {cls = Doubler, n = start, hits = 0} end
Doubler.step = function(me, by) me.n = me.n + by * 2; me.hits = me.hits + 1; return me.n end
local objs = {}
for i = 0, 99 do
  if i % 2 == 0 then objs[#objs + 1] = Counter.new(i) else objs[#objs + 1] = Doubler.new(i) end
end
local total = 0
for round = 0, 19999 do
  for _, o in ipairs(objs) do total = (total + o.cls.step(o, round % 5)) % 1000003 end
end
local hits = 0
for _, o in ipairs(objs) do hits = hits + o.hits end
print(total, hits)
